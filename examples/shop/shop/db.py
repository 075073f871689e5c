"""PostgreSQL access through psycopg2: connecting, the schema, and resetting it between tests."""

from __future__ import annotations

import psycopg2
import psycopg2.extensions

from shop.settings import settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id serial PRIMARY KEY,
    sku text UNIQUE NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    category text NOT NULL DEFAULT 'general',
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    active boolean NOT NULL DEFAULT true
);
CREATE TABLE IF NOT EXISTS stock (
    sku text PRIMARY KEY,
    quantity integer NOT NULL CHECK (quantity >= 0),
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= quantity)
);
CREATE TABLE IF NOT EXISTS orders (
    id serial PRIMARY KEY,
    customer_email text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    total_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id integer NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    sku text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price_cents integer NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE TABLE IF NOT EXISTS payments (
    id serial PRIMARY KEY,
    order_id integer REFERENCES orders(id) ON DELETE CASCADE,
    amount_cents integer NOT NULL,
    status text NOT NULL,
    reference text UNIQUE NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

TABLES = ("payments", "order_lines", "orders", "stock", "products")


def connect(url: str | None = None) -> psycopg2.extensions.connection:
    """Open a connection to DATABASE_URL (or `url`)."""
    return psycopg2.connect(url or settings.require("DATABASE_URL"))


def create_schema(conn: psycopg2.extensions.connection) -> None:
    """Create the tables if they do not exist yet."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(4242)")
        cur.execute(SCHEMA)
    conn.commit()


def reset(conn: psycopg2.extensions.connection) -> None:
    """Empty every table and restart the id sequences."""
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    conn.commit()


def prepare(conn: psycopg2.extensions.connection) -> psycopg2.extensions.connection:
    """Create the schema and empty it: the state every test starts from."""
    create_schema(conn)
    reset(conn)
    return conn
