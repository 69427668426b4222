#!/usr/bin/env python3
"""Writes data.sql: the demo's synthetic customers, products, orders and support tickets.

The output is committed, so the demo needs no Python; run this again only to change the data.
Every value is made up and deterministic (a fixed seed): names from short lists, e-mail
addresses on the reserved example.* domains, phone numbers in the ranges set aside for fiction
(555-01xx in North America, 020 7946 0xxx in the UK), card numbers in the issuers' test ranges
with a valid Luhn digit, IBANs with valid mod-97 check digits, IP addresses in the
documentation ranges (RFC 5737). US social security numbers have the valid shape (area
001-665, 667-899) because masking detectors reject impossible ones; they belong to no one.
"""

import datetime
import random
import sys

SEED = 20240501
CUSTOMERS = 200
ORDERS = 600
TICKETS = 60

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella",
         "Lucas", "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Henry", "Evelyn", "Theodore",
         "Aiko", "Ravi", "Chiara", "Jonas", "Fatima", "Mei", "Oluwaseun", "Ingrid", "Diego",
         "Priya", "Tomasz", "Leila", "Sven", "Nadia", "Kofi", "Hannah", "Yusuf", "Camille"]
LAST = ["Smith", "Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson",
        "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Lee", "Harris", "Clark", "Lewis",
        "Walker", "Young", "Allen", "Nakamura", "Patel", "Rossi", "Becker", "Haddad", "Chen",
        "Adeyemi", "Lindqvist", "Fernandez", "Kowalski", "Rahimi", "Nilsson", "Mensah", "Schmidt",
        "O'Brien", "Dubois"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
STREETS = ["Maple Ave", "Oak St", "Cedar Ln", "Pine Rd", "Elm St", "Lakeview Dr", "Hillcrest Rd",
           "Sunset Blvd", "River Rd", "Park Pl", "Washington St", "Mill Creek Way"]
US_CITIES = [("Springfield", "IL", "627"), ("Portland", "OR", "972"), ("Austin", "TX", "787"),
             ("Madison", "WI", "537"), ("Raleigh", "NC", "276"), ("Boulder", "CO", "803"),
             ("Burlington", "VT", "054"), ("Tucson", "AZ", "857")]
US_AREA_CODES = ["217", "503", "512", "608", "919", "303", "802", "520", "415", "646"]
UK_STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane"]
UK_TOWNS = [("London", "SW1A 1AA"), ("London", "EC1A 1BB"), ("Leeds", "LS1 4AP"),
            ("Bristol", "BS1 5TR"), ("Manchester", "M1 1AE")]
PRODUCTS = [("SKU-1001", "Standard plan, monthly", 19.00), ("SKU-1002", "Team plan, monthly", 49.00),
            ("SKU-1003", "Enterprise plan, monthly", 249.00), ("SKU-2001", "Extra seat", 9.50),
            ("SKU-2002", "Audit log retention, 1 year", 120.00), ("SKU-3001", "Onboarding workshop", 900.00),
            ("SKU-3002", "Priority support", 300.00), ("SKU-4001", "Hardware key", 45.00)]
ORDER_STATUSES = ["paid", "paid", "paid", "shipped", "refunded", "pending"]
TICKET_SUBJECTS = ["Cannot log in", "Card declined", "Update billing details", "Invoice copy",
                   "Change of address", "Close my account"]


def luhn_complete(partial: str) -> str:
    """Appends the Luhn check digit to a card number without one."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:  # these positions are doubled once the check digit is appended
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return partial + str((10 - total % 10) % 10)


def card_number(rng: random.Random) -> str:
    # Prefixes of the issuers' published test ranges; lengths as the real schemes use.
    kind = rng.choice(["visa", "visa", "mastercard", "mastercard", "amex", "discover"])
    if kind == "amex":
        number = luhn_complete("3782" + "".join(rng.choice("0123456789") for _ in range(10)))
        groups = [number[:4], number[4:10], number[10:]]
    else:
        prefix = {"visa": "411111", "mastercard": "555555", "discover": "601111"}[kind]
        number = luhn_complete(prefix + "".join(rng.choice("0123456789") for _ in range(9)))
        groups = [number[i:i + 4] for i in range(0, 16, 4)]
    return rng.choice([" ", "-"]).join(groups)


def iban(rng: random.Random) -> str:
    country = rng.choice(["DE", "GB", "NL", "FR"])
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    letters = lambda n: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n))  # noqa: E731
    bban = {"DE": lambda: digits(18), "GB": lambda: letters(4) + digits(14),
            "NL": lambda: letters(4) + digits(10), "FR": lambda: digits(23)}[country]()
    # ISO 13616: move the country and "00" to the end, letters to numbers, 98 - (n mod 97).
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    assert int("".join(str(int(c, 36)) for c in value[4:] + value[:4])) % 97 == 1
    if rng.random() < 0.5:
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value


def us_ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def ip_address(rng: random.Random) -> str:
    network = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{network}.{rng.randint(1, 254)}"


def sql(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def main() -> None:
    rng = random.Random(SEED)
    out = sys.stdout
    out.write("-- Synthetic demo data written by examples/demo/generate_data.py; do not edit.\n")
    out.write("-- Every name, number and address is made up (see the generator for the ranges).\n\n")

    start = datetime.datetime(2023, 1, 1, 9, 0, tzinfo=datetime.timezone.utc)
    out.write("INSERT INTO customers (id, full_name, email, phone, phone_national, us_ssn, "
              "credit_card, iban, ip_address, address, created_at) VALUES\n")
    rows = []
    emails = []
    phones = []
    for i in range(1, CUSTOMERS + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}".lower().replace("'", "")
        if rng.random() < 0.3:
            local += str(rng.randint(1, 99))
        email = f"{local}@{rng.choice(DOMAINS)}"
        while email in emails:  # the column is unique
            email = f"{local}{rng.randint(100, 999)}@{rng.choice(DOMAINS)}"
        if rng.random() < 0.8:
            area = rng.choice(US_AREA_CODES)
            line = f"01{rng.randint(0, 99):02d}"
            phone, national = f"+1{area}555{line}", f"({area}) 555-{line}"
            city, state, zip3 = rng.choice(US_CITIES)
            address = (f"{rng.randint(10, 9899)} {rng.choice(STREETS)}, {city}, {state} "
                       f"{zip3}{rng.randint(1, 99):02d}")
        else:
            line = f"0{rng.randint(0, 999):03d}"
            phone, national = f"+4420794{line[:2]}{line[2:]}", f"020 7946 {line}"
            town, postcode = rng.choice(UK_TOWNS)
            address = f"{rng.randint(1, 220)} {rng.choice(UK_STREETS)}, {town} {postcode}"
        created = start + datetime.timedelta(minutes=rng.randint(0, 500 * 24 * 60))
        emails.append(email)
        phones.append(national)
        rows.append((i, f"{first} {last}", email, phone, national, us_ssn(rng), card_number(rng),
                     iban(rng), ip_address(rng), address, created.isoformat()))
    out.write(",\n".join("  (" + ", ".join(sql(v) for v in row) + ")" for row in rows) + ";\n\n")

    out.write("INSERT INTO products (id, sku, name, unit_price) VALUES\n")
    out.write(",\n".join(f"  ({i}, {sql(sku)}, {sql(name)}, {price:.2f})"
                         for i, (sku, name, price) in enumerate(PRODUCTS, 1)) + ";\n\n")

    out.write("INSERT INTO orders (id, customer_id, product_id, quantity, status, ordered_at) VALUES\n")
    orders = []
    for i in range(1, ORDERS + 1):
        ordered = start + datetime.timedelta(minutes=rng.randint(0, 500 * 24 * 60))
        orders.append(f"  ({i}, {rng.randint(1, CUSTOMERS)}, {rng.randint(1, len(PRODUCTS))}, "
                      f"{rng.choice([1, 1, 1, 2, 3, 5])}, {sql(rng.choice(ORDER_STATUSES))}, "
                      f"{sql(ordered.isoformat())})")
    out.write(",\n".join(orders) + ";\n\n")

    # Free text that repeats PII, as real support notes do: column rules cannot catch it,
    # content detectors must.
    out.write("INSERT INTO support_tickets (id, customer_id, subject, body, opened_at) VALUES\n")
    tickets = []
    for i in range(1, TICKETS + 1):
        customer = rng.randint(1, CUSTOMERS)
        subject = rng.choice(TICKET_SUBJECTS)
        body = (f"Customer wrote from {emails[customer - 1]} and asked us to call back on "
                f"{phones[customer - 1]}. {subject}; ticket routed to billing.")
        opened = start + datetime.timedelta(minutes=rng.randint(0, 500 * 24 * 60))
        tickets.append(f"  ({i}, {customer}, {sql(subject)}, {sql(body)}, {sql(opened.isoformat())})")
    out.write(",\n".join(tickets) + ";\n\n")

    for table in ["customers", "products", "orders", "support_tickets"]:
        out.write(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                  f"(SELECT max(id) FROM {table}));\n")


if __name__ == "__main__":
    main()
