"""The async facade: the one hand-written source of both facades (see ``facade.py``)."""
