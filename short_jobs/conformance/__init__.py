"""``short-jobs conformance``: check a live endpoint against ``openapi.yaml`` and the reference.

- :mod:`.statements`: the one list of statements, shared with the contract suite;
- :mod:`.spec`: what ``openapi.yaml`` says about an answer; :mod:`.checks`: the reference's rules;
- :mod:`.runner`: drives the endpoint through every statement; :mod:`.report`: text, JSON, JUnit;
- :mod:`.har`: the HAR 1.2 recording, secrets scrubbed; :mod:`.audio`: the generated recording;
- :mod:`.command`: the ``conformance`` subcommand of ``short-jobs``.

Checking needs the ``conformance`` extra (PyYAML and jsonschema); importing this package does not.
"""
