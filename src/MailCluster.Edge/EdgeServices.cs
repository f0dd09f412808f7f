using MailCluster.Edge.Policy;
using MailCluster.Queue.Acceptance;

namespace MailCluster.Edge;

/// <summary>What SMTP sessions need from the node, built once at start.</summary>
public sealed record EdgeServices(string Hostname, SmtpOptions Smtp, RelayPolicy Policy, MessageAcceptor Acceptor, TimeProvider Clock);
