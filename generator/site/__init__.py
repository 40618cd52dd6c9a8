"""The playbook site: Markdown from Jinja2 templates, graphviz diagrams, mkdocs build."""
