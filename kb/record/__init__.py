"""The record: the database, its models and migrations, and the store over them."""
