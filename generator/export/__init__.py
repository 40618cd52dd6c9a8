"""CRM configuration export (Salesforce, HubSpot) and drift detection.

`mapping.build_spec(model)` is the single mapping from the model to CRM
names and enforcing rules; `salesforce.render` and `hubspot.render` turn it
into files, `drift` compares it with a live CRM, and `pages` documents it.
"""
