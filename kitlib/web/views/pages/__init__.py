"""The HTML pages: parse the request, call a service, render a template."""
