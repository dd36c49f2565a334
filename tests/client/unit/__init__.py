"""Client unit tests (respx, no server): a package, so that its conftest has a name of its own."""
