"""The API version the hosted service reports, which clients compare against."""

API_VERSION = "0.1.0"
