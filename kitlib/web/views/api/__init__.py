"""The JSON API: parse the request, call a service, answer JSON."""
