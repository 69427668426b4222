// Cost of classifying a statement: a cold parse and walk per statement shape, and a hit in
// the classification cache (the cost every repeated statement pays).
#include <benchmark/benchmark.h>

#include <string>

#include "sql/classification_cache.h"
#include "sql/classifier.h"

namespace {

using portcullis::sql::ClassificationCache;
using portcullis::sql::classify;

const char* const kPointSelect = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213";

const char* const kJoin3 =
    "SELECT o.id, c.name, sum(l.qty * l.price) AS total FROM orders o "
    "JOIN customers c ON c.id = o.customer_id JOIN order_lines l ON l.order_id = o.id "
    "WHERE o.created_at > now() - interval '7 days' AND c.region = 'eu' "
    "GROUP BY o.id, c.name ORDER BY total DESC LIMIT 50";

const char* const kWritableCte =
    "WITH moved AS (DELETE FROM queue WHERE run_at < now() RETURNING id, payload) "
    "INSERT INTO archive (id, payload, archived_at) SELECT id, payload, now() FROM moved";

// About 2 KB: several CTEs, window functions, CASE, subqueries and a UNION.
std::string analytical_query() {
  std::string q =
      "WITH daily AS (SELECT date_trunc('day', o.created_at) AS day, o.region, "
      "count(*) AS orders, sum(o.total) AS revenue, avg(o.total) AS avg_total "
      "FROM sales.orders o WHERE o.created_at >= date '2024-01-01' AND o.status IN "
      "('paid', 'shipped', 'delivered') GROUP BY 1, 2), "
      "ranked AS (SELECT d.*, rank() OVER (PARTITION BY d.region ORDER BY d.revenue DESC) AS rk, "
      "lag(d.revenue) OVER (PARTITION BY d.region ORDER BY d.day) AS prev_revenue, "
      "sum(d.revenue) OVER (PARTITION BY d.region ORDER BY d.day ROWS BETWEEN 6 PRECEDING AND "
      "CURRENT ROW) AS revenue_7d FROM daily d), "
      "customers_by_region AS (SELECT c.region, count(DISTINCT c.id) AS customers, "
      "count(*) FILTER (WHERE c.created_at > now() - interval '30 days') AS new_customers "
      "FROM crm.customers c LEFT JOIN crm.accounts a ON a.customer_id = c.id "
      "WHERE coalesce(a.closed, false) = false GROUP BY c.region) "
      "SELECT r.day, r.region, r.orders, r.revenue, r.avg_total, r.rk, "
      "CASE WHEN r.prev_revenue IS NULL THEN NULL WHEN r.prev_revenue = 0 THEN NULL "
      "ELSE round((r.revenue - r.prev_revenue) / r.prev_revenue * 100, 2) END AS growth_pct, "
      "r.revenue_7d, cbr.customers, cbr.new_customers, "
      "(SELECT max(p.price) FROM catalog.products p WHERE p.region = r.region) AS top_price, "
      "EXISTS (SELECT 1 FROM ops.incidents i WHERE i.region = r.region AND i.day = r.day) "
      "AS had_incident "
      "FROM ranked r JOIN customers_by_region cbr ON cbr.region = r.region "
      "WHERE r.rk <= 10 AND r.region NOT IN (SELECT region FROM ops.excluded_regions) "
      "UNION ALL "
      "SELECT current_date, 'total', sum(orders)::bigint, sum(revenue), avg(avg_total), 0, "
      "NULL, NULL, NULL, NULL, NULL, false FROM daily "
      "ORDER BY 2, 1 DESC LIMIT 500";
  while (q.size() < 2048) q += " ";
  return q;
}

void classify_cold(benchmark::State& state, const std::string& sql) {
  for (auto _ : state) {
    auto c = classify(sql);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(sql.size()));
}

void BM_ClassifyPointSelect(benchmark::State& state) {
  classify_cold(state, kPointSelect);
}
void BM_ClassifyJoin3(benchmark::State& state) {
  classify_cold(state, kJoin3);
}
void BM_ClassifyWritableCte(benchmark::State& state) {
  classify_cold(state, kWritableCte);
}
void BM_ClassifyAnalytical2KB(benchmark::State& state) {
  classify_cold(state, analytical_query());
}

void BM_CacheHitPointSelect(benchmark::State& state) {
  ClassificationCache cache;
  std::string sql = kPointSelect;
  cache.classify(sql);
  for (auto _ : state) {
    auto c = cache.classify(sql);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CacheHitAnalytical2KB(benchmark::State& state) {
  ClassificationCache cache;
  std::string sql = analytical_query();
  cache.classify(sql);
  for (auto _ : state) {
    auto c = cache.classify(sql);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_ClassifyPointSelect);
BENCHMARK(BM_ClassifyJoin3);
BENCHMARK(BM_ClassifyWritableCte);
BENCHMARK(BM_ClassifyAnalytical2KB);
BENCHMARK(BM_CacheHitPointSelect);
BENCHMARK(BM_CacheHitAnalytical2KB);
BENCHMARK(BM_CacheHitPointSelect)->Threads(2);

BENCHMARK_MAIN();
