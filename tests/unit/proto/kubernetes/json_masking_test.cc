// Secret redaction and masking of Kubernetes API response bodies, on documents shaped as the
// API server sends them: single objects, lists, Tables, watch events.
#include "proto/kubernetes/json_masking.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace portcullis::proto::kubernetes {
namespace {

namespace json = boost::json;

// The values of the Secrets below, in clear; their base64 is what `data` holds.
const std::vector<std::string> kSecretValues = {"s3cr3t-Passw0rd!", "db-admin-user",
                                                "AKIAZZZEXAMPLEKEY", "hunter2-string-data"};
// base64 of the first three.
const std::vector<std::string> kEncodedValues = {
    "czNjcjN0LVBhc3N3MHJkIQ==", "ZGItYWRtaW4tdXNlcg==", "QUtJQVpaWkVYQU1QTEVLRVk="};

// A Secret as `kubectl get secret db -o json` returns it, applied with `kubectl apply` (whose
// annotation holds the values in clear).
const std::string kSecret = R"({
  "apiVersion": "v1",
  "kind": "Secret",
  "metadata": {
    "annotations": {
      "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\",\"data\":{\"password\":\"czNjcjN0LVBhc3N3MHJkIQ==\",\"username\":\"ZGItYWRtaW4tdXNlcg==\"},\"kind\":\"Secret\",\"metadata\":{\"annotations\":{},\"name\":\"db\",\"namespace\":\"shop\"},\"stringData\":{\"note\":\"hunter2-string-data\"},\"type\":\"Opaque\"}\n",
      "team": "payments"
    },
    "creationTimestamp": "2024-05-02T10:11:12Z",
    "labels": {"app": "shop"},
    "name": "db",
    "namespace": "shop",
    "resourceVersion": "48213",
    "uid": "8f0f4a0e-5b1e-4f7a-9d34-1d8e0f6c2a11"
  },
  "data": {
    "password": "czNjcjN0LVBhc3N3MHJkIQ==",
    "username": "ZGItYWRtaW4tdXNlcg=="
  },
  "stringData": {"note": "hunter2-string-data"},
  "type": "Opaque"
})";

// A SecretList as the API server returns it: the items carry no kind or apiVersion.
const std::string kSecretList =
    R"({"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"48300"},"items":[{"metadata":{"name":"db","namespace":"shop","uid":"8f0f4a0e-5b1e-4f7a-9d34-1d8e0f6c2a11","resourceVersion":"48213","creationTimestamp":"2024-05-02T10:11:12Z"},"data":{"password":"czNjcjN0LVBhc3N3MHJkIQ==","username":"ZGItYWRtaW4tdXNlcg=="},"type":"Opaque"},{"metadata":{"name":"aws","namespace":"shop","uid":"0c1d2e3f-0000-4000-8000-000000000001","resourceVersion":"48214","creationTimestamp":"2024-05-02T10:11:13Z"},"data":{"key":"QUtJQVpaWkVYQU1QTEVLRVk="},"type":"Opaque"}]})";

// A v1 List of mixed kinds, as `kubectl get -f dir/ -o json` builds it.
const std::string kMixedList =
    R"({"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"shop"},"data":{"password":"czNjcjN0LVBhc3N3MHJkIQ==","mode":"fast"}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"aws","namespace":"shop"},"data":{"key":"QUtJQVpaWkVYQU1QTEVLRVk="},"type":"Opaque"},{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}}]})";

// `kubectl get secrets` with includeObject=Object: a Table whose rows hold whole Secrets.
const std::string kSecretTable =
    R"({"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"48300"},"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"Name must be unique within a namespace.","priority":0},{"name":"Type","type":"string","format":"","description":"Used to facilitate programmatic handling of secret data.","priority":0},{"name":"Data","type":"string","format":"","description":"","priority":0},{"name":"Age","type":"string","format":"","description":"","priority":0}],"rows":[{"cells":["db","Opaque",2,"3d"],"object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db","namespace":"shop","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"czNjcjN0LVBhc3N3MHJkIQ==\"}}"}},"data":{"password":"czNjcjN0LVBhc3N3MHJkIQ==","username":"ZGItYWRtaW4tdXNlcg=="},"type":"Opaque"}},{"cells":["aws","Opaque",1,"3d"],"object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"aws","namespace":"shop"},"data":{"key":"QUtJQVpaWkVYQU1QTEVLRVk="},"type":"Opaque"}}]})";

// `kubectl get secrets` as it asks by default: rows hold PartialObjectMetadata, whose
// annotations still carry the last applied configuration.
const std::string kSecretMetadataTable =
    R"({"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"48300"},"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"","priority":0}],"rows":[{"cells":["db","Opaque",2,"3d"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"db","namespace":"shop","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"czNjcjN0LVBhc3N3MHJkIQ==\"}}"}}}}]})";

// `kubectl get secret db --watch -o json`: one event of the stream.
const std::string kSecretWatchEvent =
    R"({"type":"MODIFIED","object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db","namespace":"shop","resourceVersion":"48400"},"data":{"password":"czNjcjN0LVBhc3N3MHJkIQ==","username":"ZGItYWRtaW4tdXNlcg=="},"type":"Opaque"}})";

const std::string kConfigMap = R"({
  "apiVersion": "v1",
  "kind": "ConfigMap",
  "metadata": {"name": "billing", "namespace": "shop", "uid": "1b2c3d4e-0000-4000-8000-000000000002",
               "resourceVersion": "777", "creationTimestamp": "2024-05-02T10:11:12Z"},
  "data": {
    "contact": "alice.smith@example.com",
    "test-card": "4111 1111 1111 1111",
    "retries": "3"
  }
})";

const std::string kPod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"shop","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.25","env":[{"name":"ADMIN_EMAIL","value":"ops@example.com"},{"name":"MODE","value":"production"},{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}],"ports":[{"containerPort":80}],"resources":{"limits":{"cpu":0.5}}}]},"status":{"phase":"Running","podIP":"10.1.2.3"}})";

std::shared_ptr<const masking::Masker> make_masker(std::vector<std::string> detectors,
                                                   std::string strategy = "redact") {
  config::MaskingProfileConfig profile;
  profile.name = "k8s";
  profile.detectors = std::move(detectors);
  profile.strategy = std::move(strategy);
  auto masker = masking::Masker::build(profile, Secret("test-key"));
  EXPECT_TRUE(masker.ok());
  return *masker;
}

json::value as_json(std::string_view text) {
  return json::string(text);
}

// Every string of a document, with the base64 decoding of those that are base64.
void collect_strings(const json::value& value, std::vector<std::string>& out) {
  if (value.is_string()) {
    out.emplace_back(value.get_string());
  } else if (value.is_array()) {
    for (const auto& element : value.get_array()) collect_strings(element, out);
  } else if (value.is_object()) {
    for (const auto& member : value.get_object()) {
      out.emplace_back(member.key());
      collect_strings(member.value(), out);
    }
  }
}

// A document with every key's value that `drop` names taken out, for comparing the rest.
json::value without(json::value value, const std::vector<std::string>& drop) {
  if (value.is_object()) {
    auto& object = value.get_object();
    for (const auto& key : drop) object.erase(key);
    for (auto& member : object) member.value() = without(member.value(), drop);
  } else if (value.is_array()) {
    for (auto& element : value.get_array()) element = without(element, drop);
  }
  return value;
}

class JsonMaskingTest : public ::testing::Test {
 protected:
  std::string mask(std::string_view body, const BodyRules& rules) {
    auto out = mask_json_document(body, rules, scratch_, counts_);
    EXPECT_TRUE(out.ok()) << out.error().message;
    return out.ok() ? *out : std::string();
  }

  // No value of kSecretValues survives, in clear, in base64, or inside a longer string.
  static void expect_no_secret_value(const std::string& out) {
    for (const auto& value : kSecretValues) EXPECT_EQ(out.find(value), std::string::npos) << value;
    for (const auto& value : kEncodedValues) EXPECT_EQ(out.find(value), std::string::npos) << value;
    std::vector<std::string> strings;
    collect_strings(json::parse(out), strings);
    for (const auto& s : strings) {
      for (const auto& value : kSecretValues) EXPECT_EQ(s.find(value), std::string::npos) << s;
    }
  }

  masking::Scratch scratch_;
  BodyCounts counts_;
};

TEST_F(JsonMaskingTest, RedactsASecretsValuesAndKeepsItsKeys) {
  const auto out = mask(kSecret, BodyRules{});
  expect_no_secret_value(out);
  const auto doc = json::parse(out);
  EXPECT_EQ(doc.at("data"), json::parse(R"({"password":"W3JlZGFjdGVkXQ==",
                                             "username":"W3JlZGFjdGVkXQ=="})"));
  EXPECT_EQ(doc.at("stringData"), json::parse(R"({"note":"[redacted]"})"));
  EXPECT_EQ(
      doc.at("metadata").at("annotations").at("kubectl.kubernetes.io/last-applied-configuration"),
      "[redacted]");
  // Two data values, one stringData value, the annotation.
  EXPECT_EQ(counts_.secret_values, 4u);
  EXPECT_EQ(counts_.masked.total(), 0u);
  // Everything else is as it was.
  const std::vector<std::string> redacted = {"data", "stringData",
                                             "kubectl.kubernetes.io/last-applied-configuration"};
  EXPECT_EQ(without(doc, redacted), without(json::parse(kSecret), redacted));
}

TEST_F(JsonMaskingTest, TheRedactedDataDecodesToAWordSayingWhy) {
  EXPECT_EQ(kRedactedBase64, "W3JlZGFjdGVkXQ==");  // base64 -d: [redacted]
  const auto doc = json::parse(mask(kSecret, BodyRules{}));
  EXPECT_EQ(doc.at("data").at("password"), as_json(kRedactedBase64));
}

TEST_F(JsonMaskingTest, ItemsOfASecretListAreSecretsWithoutAKind) {
  const auto out = mask(kSecretList, BodyRules{});
  expect_no_secret_value(out);
  EXPECT_EQ(counts_.secret_values, 3u);
  const auto doc = json::parse(out);
  EXPECT_EQ(doc.at("items").at(1).at("data").at("key"), as_json(kRedactedBase64));
  EXPECT_EQ(doc.at("items").at(0).at("metadata"),
            json::parse(kSecretList).at("items").at(0).at("metadata"));
  EXPECT_EQ(doc.at("metadata"), json::parse(kSecretList).at("metadata"));
}

TEST_F(JsonMaskingTest, AMixedListRedactsOnlyItsSecrets) {
  const auto out = mask(kMixedList, BodyRules{});
  const auto doc = json::parse(out);
  const auto in = json::parse(kMixedList);
  EXPECT_EQ(doc.at("items").at(1).at("data").at("key"), as_json(kRedactedBase64));
  // A ConfigMap is not a Secret, whatever it holds; a Service is left alone.
  EXPECT_EQ(doc.at("items").at(0), in.at("items").at(0));
  EXPECT_EQ(doc.at("items").at(2), in.at("items").at(2));
  EXPECT_EQ(counts_.secret_values, 1u);
}

TEST_F(JsonMaskingTest, OnTheSecretsResourceEveryObjectIsASecret) {
  // A body of the `secrets` resource that claims another kind is still redacted.
  const std::string claims_config_map =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"db"},"data":{"password":"czNjcjN0LVBhc3N3MHJkIQ=="}})";
  const auto out = mask(claims_config_map, BodyRules{.all_secrets = true});
  expect_no_secret_value(out);
  EXPECT_EQ(counts_.secret_values, 1u);
  // Without the request's word for it, a ConfigMap is not a Secret.
  EXPECT_EQ(mask(claims_config_map, BodyRules{}), claims_config_map);
}

TEST_F(JsonMaskingTest, RedactsTheSecretsOfATableWithWholeObjects) {
  const auto out = mask(kSecretTable, BodyRules{.all_secrets = true});
  expect_no_secret_value(out);
  // Three data values and one annotation.
  EXPECT_EQ(counts_.secret_values, 4u);
  const auto doc = json::parse(out);
  const auto in = json::parse(kSecretTable);
  EXPECT_EQ(doc.at("columnDefinitions"), in.at("columnDefinitions"));
  EXPECT_EQ(doc.at("rows").at(0).at("cells"), in.at("rows").at(0).at("cells"));
  EXPECT_EQ(doc.at("rows").at(1).at("object").at("metadata"),
            in.at("rows").at(1).at("object").at("metadata"));
  // Without all_secrets, the rows' objects are Secrets by their kind.
  BodyCounts counts;
  auto again = mask_json_document(kSecretTable, BodyRules{}, scratch_, counts);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, out);
}

TEST_F(JsonMaskingTest, RedactsTheLastAppliedAnnotationOfPartialObjectMetadataRows) {
  const auto out = mask(kSecretMetadataTable, BodyRules{.all_secrets = true});
  expect_no_secret_value(out);
  EXPECT_EQ(counts_.secret_values, 1u);
}

TEST_F(JsonMaskingTest, RedactsTheSecretOfAWatchEvent) {
  const auto out = mask(kSecretWatchEvent, BodyRules{});
  expect_no_secret_value(out);
  EXPECT_EQ(counts_.secret_values, 2u);
  const auto doc = json::parse(out);
  EXPECT_EQ(doc.at("type"), "MODIFIED");
  EXPECT_EQ(doc.at("object").at("metadata"),
            json::parse(kSecretWatchEvent).at("object").at("metadata"));
}

TEST_F(JsonMaskingTest, RedactsTheSecretsOfAWatchEventHoldingATable) {
  const auto event = R"({"type":"ADDED","object":)" + kSecretTable + "}";
  const auto out = mask(event, BodyRules{.all_secrets = true});
  expect_no_secret_value(out);
  EXPECT_EQ(counts_.secret_values, 4u);
}

TEST_F(JsonMaskingTest, RedactsCopiesOfASecretsValueElsewhereInIt) {
  const std::string secret =
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","labels":{"copy":"db-admin-user"},"annotations":{"note":"rotated, was s3cr3t-Passw0rd! before","kapp.k14s.io/original":"{\"data\":{\"x\":\"eA==\"}}","team":"payments"}},"data":{"password":"czNjcjN0LVBhc3N3MHJkIQ==","username":"ZGItYWRtaW4tdXNlcg==","short":"eA=="},"type":"Opaque"})";
  const auto out = mask(secret, BodyRules{});
  expect_no_secret_value(out);
  const auto doc = json::parse(out);
  EXPECT_EQ(doc.at("metadata").at("labels").at("copy"), as_json(kRedacted));
  EXPECT_EQ(doc.at("metadata").at("annotations").at("kapp.k14s.io/original"), as_json(kRedacted));
  EXPECT_EQ(doc.at("metadata").at("annotations").at("team"), "payments");
  EXPECT_EQ(doc.at("type"), "Opaque");
  // Three data values, the label, two annotations.
  EXPECT_EQ(counts_.secret_values, 6u);
}

TEST_F(JsonMaskingTest, RedactsACopyOfASecretsValueInAnotherObjectOfTheDocument) {
  // The password kept in clear in a ConfigMap beside its Secret; the ConfigMap's name, which
  // kubectl needs, stays even where it holds the value.
  const std::string list =
      R"({"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"data":{"password":"czNjcjN0LVBhc3N3MHJkIQ=="}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s3cr3t-Passw0rd!"},"data":{"DATABASE_URL":"postgres://app:s3cr3t-Passw0rd!@db:5432/shop","mode":"fast"}}]})";
  const auto doc = json::parse(mask(list, BodyRules{}));
  const auto& config_map = doc.at("items").at(1);
  EXPECT_EQ(config_map.at("data").at("DATABASE_URL"), as_json(kRedacted));
  EXPECT_EQ(config_map.at("data").at("mode"), "fast");
  EXPECT_EQ(config_map.at("metadata").at("name"), "s3cr3t-Passw0rd!");
  EXPECT_EQ(counts_.secret_values, 2u);
}

TEST_F(JsonMaskingTest, RedactsATableCellThatShowsASecretsValue) {
  // A printer column showing a value; the name cell stays.
  const std::string table =
      R"({"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[{"cells":["db","ZGItYWRtaW4tdXNlcg==","user db-admin-user"],"object":{"kind":"Secret","metadata":{"name":"db"},"data":{"username":"ZGItYWRtaW4tdXNlcg=="}}}]})";
  const auto out = mask(table, BodyRules{});
  expect_no_secret_value(out);
  EXPECT_EQ(json::parse(out).at("rows").at(0).at("cells"),
            json::parse(R"(["db","[redacted]","[redacted]"])"));
}

TEST_F(JsonMaskingTest, AGrantWithSecretsSeesTheValues) {
  EXPECT_EQ(mask(kSecret, BodyRules{.redact_secrets = false}), kSecret);
  EXPECT_EQ(counts_.secret_values, 0u);
}

TEST_F(JsonMaskingTest, AnUnchangedDocumentIsReturnedByteForByte) {
  // Spacing, escapes and number spellings that a serialiser would not reproduce.
  const std::string odd =
      "{ \"kind\" : \"ConfigMap\",\n\t\"data\": {\"x\": \"caf\\u00e9 \\/ \\\"q\\\"\"},"
      " \"n\": 1.0E2, \"m\": -0.0, \"big\": 123456789012345678901234567890 }  \n";
  EXPECT_EQ(mask(odd, BodyRules{}), odd);
  const auto masker = make_masker({"email", "credit_card"});
  EXPECT_EQ(mask(odd, BodyRules{.masker = masker.get()}), odd);
  EXPECT_EQ(mask(kPod, BodyRules{.all_secrets = false}), kPod);
  EXPECT_EQ(counts_.secret_values, 0u);
  EXPECT_EQ(counts_.masked.total(), 0u);
}

TEST_F(JsonMaskingTest, MasksAConfigMapsEmailAndCardNumber) {
  const auto masker = make_masker({"email", "credit_card"});
  const auto out = mask(kConfigMap, BodyRules{.masker = masker.get()});
  EXPECT_EQ(out.find("alice.smith@example.com"), std::string::npos);
  EXPECT_EQ(out.find("4111 1111 1111 1111"), std::string::npos);
  EXPECT_EQ(counts_.masked.total(), 2u);
  const auto doc = json::parse(out);
  const auto in = json::parse(kConfigMap);
  EXPECT_EQ(doc.at("metadata"), in.at("metadata"));
  EXPECT_EQ(doc.at("data").at("retries"), "3");
  EXPECT_EQ(without(doc, {"contact", "test-card"}), without(in, {"contact", "test-card"}));
}

TEST_F(JsonMaskingTest, MasksAPodsEnvValuesButNotItsNames) {
  const auto masker = make_masker({"email", "ipv4"});
  const auto out = mask(kPod, BodyRules{.masker = masker.get()});
  EXPECT_EQ(out.find("ops@example.com"), std::string::npos);
  EXPECT_EQ(out.find("10.1.2.3"), std::string::npos);
  const auto doc = json::parse(out);
  const auto in = json::parse(kPod);
  EXPECT_EQ(doc.at("spec").at("containers").at(0).at("resources"),
            in.at("spec").at("containers").at(0).at("resources"));
  EXPECT_EQ(without(doc, {"value", "podIP"}), without(in, {"value", "podIP"}));
  EXPECT_EQ(counts_.masked.total(), 2u);
}

TEST_F(JsonMaskingTest, NamesAndIdentifiersAreNotMasked) {
  const auto masker = make_masker({"email"});
  const std::string user =
      R"({"apiVersion":"example.com/v1","kind":"User","metadata":{"name":"bob@example.com","namespace":"bob@example.com","generateName":"bob@example.com-","uid":"bob@example.com"},"spec":{"email":"bob@example.com"}})";
  const auto out = mask(user, BodyRules{.masker = masker.get()});
  const auto doc = json::parse(out);
  EXPECT_EQ(doc.at("metadata"), json::parse(user).at("metadata"));
  EXPECT_NE(doc.at("spec").at("email"), "bob@example.com");
  EXPECT_EQ(counts_.masked.total(), 1u);
}

TEST_F(JsonMaskingTest, ALabelOrEntryCalledNameIsContent) {
  // Keys of labels, annotations and ConfigMap entries are the user's words, not field names.
  const auto masker = make_masker({"email"});
  const std::string config_map =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owners","labels":{"name":"bob@example.com"},"annotations":{"uid":"bob@example.com"}},"data":{"name":"alice@example.com","kind":"carol@example.com"}})";
  const auto out = mask(config_map, BodyRules{.masker = masker.get()});
  EXPECT_EQ(out.find("@example.com"), std::string::npos) << out;
  EXPECT_EQ(json::parse(out).at("metadata").at("name"), "owners");
  EXPECT_EQ(counts_.masked.total(), 4u);
}

TEST_F(JsonMaskingTest, ACopyInALabelCalledNameIsRedacted) {
  const std::string secret =
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","labels":{"name":"db-admin-user"}},"data":{"username":"ZGItYWRtaW4tdXNlcg=="}})";
  const auto out = mask(secret, BodyRules{});
  expect_no_secret_value(out);
  EXPECT_EQ(json::parse(out).at("metadata").at("name"), "db");
}

TEST_F(JsonMaskingTest, ATableRowsNameCellIsNotMaskedButItsOtherCellsAre) {
  // A node named by its address, which the ipv4 detector finds.
  const auto masker = make_masker({"ipv4"});
  const std::string table =
      R"({"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":[{"name":"Name","type":"string","format":"name"},{"name":"Internal-IP","type":"string","format":""}],"rows":[{"cells":["10.0.0.7","10.0.0.8"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"10.0.0.7"}}}]})";
  const auto doc = json::parse(mask(table, BodyRules{.masker = masker.get()}));
  const auto& row = doc.at("rows").at(0);
  EXPECT_EQ(row.at("cells").at(0), "10.0.0.7");
  EXPECT_NE(row.at("cells").at(1), "10.0.0.8");
  EXPECT_EQ(row.at("object").at("metadata").at("name"), "10.0.0.7");
  EXPECT_EQ(counts_.masked.total(), 1u);
}

TEST_F(JsonMaskingTest, TheWatchEventsTypeIsNotMaskedButOtherTypesAre) {
  config::MaskingProfileConfig profile;
  profile.name = "words";
  profile.custom.push_back({.name = "word", .regex = "", .words = {"ADDED", "Opaque"}, .line = 0});
  auto masker = masking::Masker::build(profile, Secret("test-key"));
  ASSERT_TRUE(masker.ok()) << masker.error().message;
  const auto event = R"({"type":"ADDED","object":{"kind":"Thing","type":"ADDED"}})";
  const auto doc = json::parse(mask(event, BodyRules{.masker = masker->get()}));
  EXPECT_EQ(doc.at("type"), "ADDED");
  EXPECT_NE(doc.at("object").at("type"), "ADDED");
}

TEST_F(JsonMaskingTest, TheNullStrategyMakesAValueNull) {
  const auto masker = make_masker({"email"}, "null");
  const auto out = mask(kConfigMap, BodyRules{.masker = masker.get()});
  EXPECT_TRUE(json::parse(out).at("data").at("contact").is_null());
}

TEST_F(JsonMaskingTest, SecretsAreRedactedAndTheRestMaskedTogether) {
  const auto masker = make_masker({"email"});
  const auto list =
      R"({"kind":"List","apiVersion":"v1","items":[)" + kSecret + "," + kConfigMap + "]}";
  const auto out = mask(list, BodyRules{.masker = masker.get()});
  expect_no_secret_value(out);
  EXPECT_EQ(out.find("alice.smith@example.com"), std::string::npos);
  EXPECT_EQ(counts_.secret_values, 4u);
  EXPECT_EQ(counts_.masked.total(), 1u);
}

TEST_F(JsonMaskingTest, ASecondPassChangesNothing) {
  for (const auto* body : {&kSecret, &kSecretList, &kSecretTable, &kSecretWatchEvent}) {
    const auto once = mask(*body, BodyRules{.all_secrets = true});
    BodyCounts counts;
    auto twice = mask_json_document(once, BodyRules{.all_secrets = true}, scratch_, counts);
    ASSERT_TRUE(twice.ok());
    EXPECT_EQ(*twice, once);
    EXPECT_EQ(counts.secret_values, 0u);
  }
}

TEST_F(JsonMaskingTest, ARepeatedKeyIsNotPassedOnAsItCame) {
  // Boost.JSON keeps the last `data`; a reader that keeps the first would see the value.
  const std::string repeated =
      R"({"kind":"Secret","data":{"password":"czNjcjN0LVBhc3N3MHJkIQ=="},"data":{}})";
  const auto out = mask(repeated, BodyRules{});
  EXPECT_EQ(out.find("czNjcjN0LVBhc3N3MHJkIQ=="), std::string::npos);
  EXPECT_EQ(json::parse(out), json::parse(R"({"kind":"Secret","data":{}})"));
}

TEST_F(JsonMaskingTest, RefusesWhatIsNotOneJsonDocument) {
  for (const std::string bad : {"", "{", "{\"kind\":\"Secret\"", "{} {}", "nul", "<html>",
                                "{\"a\":1,}", "{\"a\":\"\xff\"}", "[1,2]x",
                                // Numbers a double cannot hold, which would come out as
                                // Infinity or NaN.
                                "{\"n\":1e400}", "{\"n\":-1e400}", "[0.00e000000800]"}) {
    EXPECT_FALSE(mask_json_document(bad, BodyRules{}, scratch_, counts_).ok()) << bad;
  }
}

TEST_F(JsonMaskingTest, RefusesDocumentsNestedDeeperThanTheBound) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_TRUE(mask_json_document(nested(kMaxJsonDepth), BodyRules{}, scratch_, counts_).ok());
  auto deep = mask_json_document(nested(kMaxJsonDepth + 1), BodyRules{}, scratch_, counts_);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("deeper"), std::string::npos);
  EXPECT_FALSE(mask_json_document(nested(100000), BodyRules{}, scratch_, counts_).ok());
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
