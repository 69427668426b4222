-- Tables of the demo MariaDB database `shop`, created by scripts/demo.sh: the same tables as
-- the PostgreSQL demo (../schema.sql) in MariaDB's types, so that both load from ../data.sql.
-- customers holds the personal data that the gateway masks; the other tables are plain
-- business data so that queries can join.

CREATE TABLE customers (
  id             INT AUTO_INCREMENT PRIMARY KEY,
  full_name      VARCHAR(200) NOT NULL,
  email          VARCHAR(254) NOT NULL UNIQUE,
  phone          VARCHAR(32) NOT NULL,   -- E.164
  phone_national VARCHAR(32) NOT NULL,   -- as the customer typed it
  us_ssn         VARCHAR(11),
  credit_card    VARCHAR(23),
  iban           VARCHAR(42),
  ip_address     VARCHAR(45),            -- PostgreSQL's inet; text here, as most MySQL schemas do
  address        VARCHAR(200),
  created_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE products (
  id         INT AUTO_INCREMENT PRIMARY KEY,
  sku        VARCHAR(32) NOT NULL UNIQUE,
  name       VARCHAR(200) NOT NULL,
  unit_price DECIMAL(10, 2) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE orders (
  id          INT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  product_id  INT NOT NULL,
  quantity    INT NOT NULL CHECK (quantity > 0),
  status      VARCHAR(32) NOT NULL,
  ordered_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY orders_customer_id (customer_id),
  FOREIGN KEY (customer_id) REFERENCES customers (id),
  FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE support_tickets (
  id          INT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  subject     VARCHAR(200) NOT NULL,
  body        TEXT NOT NULL,
  opened_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
