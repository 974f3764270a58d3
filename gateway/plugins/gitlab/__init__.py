"""GitLab connector (gitlab.com and self-managed): timelogs over GraphQL, issues over REST, OAuth 2.0 with PKCE or
personal access tokens, webhooks with a secret token or Standard Webhooks signatures. Written only against the
public connector package `gateway.connectors`; the GitLab facts it relies on are in docs/trackers.md."""
