"""REST clients for the CRMs the playbook configures: one module per API.

`salesforce.SalesforceClient` and `hubspot.HubSpotClient` share the transport in
`http` (paging helpers, bounded retries honouring `Retry-After`, token
redaction). Credentials come from environment variables only.
"""
