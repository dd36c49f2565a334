"""The hand-written client layer over the generated short_jobs_client."""
