-- The database of Cloudwarm's app: the example company's own system, which Pledge connects to
-- as the datastore "app" declared in ../pledge.yaml. Not Pledge's database.
--
-- Portable: the same file creates the schema on SQLite, PostgreSQL and MariaDB/MySQL (InnoDB).
-- Ids are given by the application (see seed.py), so no dialect's auto-increment is needed;
-- timestamps are declared NULL so that MariaDB adds no implicit default or ON UPDATE clause.
--
-- What it exercises: a self-referencing foreign key (users.referred_by), a many-to-many
-- table (home_members), a big table three joins away from a person (temperature_readings),
-- a table that links to users only by an e-mail string (support_tickets.customer_email, no
-- foreign key), a table under a legal hold (invoices), and a table with no personal data
-- (firmware_releases).

CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY,
    email VARCHAR(254) NOT NULL UNIQUE,
    full_name VARCHAR(200) NULL,
    phone VARCHAR(32) NULL,
    password_hash VARCHAR(200) NOT NULL,
    referred_by INTEGER NULL REFERENCES users (id),
    created_at TIMESTAMP NULL,
    closed_at TIMESTAMP NULL
);

CREATE TABLE homes (
    id INTEGER NOT NULL PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    name VARCHAR(100) NULL,
    street VARCHAR(200) NULL,
    postal_code VARCHAR(16) NULL,
    city VARCHAR(100) NULL,
    country CHAR(2) NULL,
    latitude NUMERIC(9, 6) NULL,
    longitude NUMERIC(9, 6) NULL
);

CREATE TABLE home_members (
    home_id INTEGER NOT NULL REFERENCES homes (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    role VARCHAR(20) NOT NULL,
    PRIMARY KEY (home_id, user_id)
);

CREATE TABLE thermostats (
    id INTEGER NOT NULL PRIMARY KEY,
    home_id INTEGER NOT NULL REFERENCES homes (id),
    serial_number VARCHAR(32) NOT NULL UNIQUE,
    model VARCHAR(50) NULL,
    firmware VARCHAR(20) NULL,
    installed_on DATE NULL
);

CREATE TABLE temperature_readings (
    id INTEGER NOT NULL PRIMARY KEY,
    thermostat_id INTEGER NOT NULL REFERENCES thermostats (id),
    recorded_at TIMESTAMP NULL,
    indoor_celsius NUMERIC(4, 1) NULL,
    target_celsius NUMERIC(4, 1) NULL
);

CREATE INDEX temperature_readings_thermostat ON temperature_readings (thermostat_id);

CREATE TABLE support_tickets (
    id INTEGER NOT NULL PRIMARY KEY,
    customer_email VARCHAR(254) NOT NULL,
    subject VARCHAR(200) NULL,
    body TEXT NULL,
    status VARCHAR(20) NOT NULL,
    opened_at TIMESTAMP NULL
);

CREATE INDEX support_tickets_customer_email ON support_tickets (customer_email);

CREATE TABLE newsletter_subscriptions (
    id INTEGER NOT NULL PRIMARY KEY,
    user_id INTEGER NULL REFERENCES users (id),
    email VARCHAR(254) NOT NULL,
    subscribed_at TIMESTAMP NULL,
    unsubscribed_at TIMESTAMP NULL
);

CREATE TABLE invoices (
    id INTEGER NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    number VARCHAR(20) NOT NULL UNIQUE,
    issued_on DATE NOT NULL,
    billing_name VARCHAR(200) NULL,
    billing_address VARCHAR(300) NULL,
    amount NUMERIC(10, 2) NOT NULL,
    currency CHAR(3) NOT NULL
);

CREATE TABLE firmware_releases (
    version VARCHAR(20) NOT NULL PRIMARY KEY,
    released_on DATE NOT NULL,
    notes TEXT NULL
);
