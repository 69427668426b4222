-- Tables of the demo database `app`, created by scripts/demo.sh as their owner app_rw.
-- customers holds the personal data that the gateway masks; the other tables are plain
-- business data so that queries can join.

CREATE TABLE customers (
  id             serial PRIMARY KEY,
  full_name      text NOT NULL,
  email          text NOT NULL UNIQUE,
  phone          text NOT NULL,          -- E.164
  phone_national text NOT NULL,          -- as the customer typed it
  us_ssn         text,
  credit_card    text,
  iban           text,
  ip_address     inet,
  address        text,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
  id         serial PRIMARY KEY,
  sku        text NOT NULL UNIQUE,
  name       text NOT NULL,
  unit_price numeric(10, 2) NOT NULL
);

CREATE TABLE orders (
  id          serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  product_id  integer NOT NULL REFERENCES products (id),
  quantity    integer NOT NULL CHECK (quantity > 0),
  status      text NOT NULL,
  ordered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id ON orders (customer_id);

CREATE TABLE support_tickets (
  id          serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  subject     text NOT NULL,
  body        text NOT NULL,
  opened_at   timestamptz NOT NULL DEFAULT now()
);
