"""Mock MetaStudio short-jobs service with an OBS-style upload endpoint."""
