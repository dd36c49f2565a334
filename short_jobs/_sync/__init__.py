"""The sync facade, generated from ``short_jobs/_async`` by ``make unasync``: do not edit."""
