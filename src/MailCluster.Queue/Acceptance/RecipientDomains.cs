using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Acceptance;

/// <summary>How the acceptor splits a message's recipients over the domain queues.</summary>
internal static class RecipientDomains
{
    /// <summary>Recipients by normalised domain, duplicates dropped, in first-seen order.</summary>
    public static Dictionary<string, IReadOnlyList<string>> ByDomain(IReadOnlyList<string> recipients)
    {
        var byDomain = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            var domain = DomainKey.OfAddress(recipient);
            if (!byDomain.TryGetValue(domain, out var list))
            {
                byDomain[domain] = list = new List<string>(1);
            }

            var addresses = (List<string>)list;
            if (!addresses.Contains(recipient, StringComparer.Ordinal))
            {
                addresses.Add(recipient);
            }
        }

        return byDomain;
    }

    /// <summary>The DSN envelope restricted to one domain's recipients (each queue keeps only its own).</summary>
    public static DsnEnvelope? ForDomain(DsnEnvelope? dsn, IReadOnlyList<string> recipients) =>
        dsn is null ? null : dsn with { Recipients = dsn.Recipients.Where(r => recipients.Contains(r.Address, StringComparer.Ordinal)).ToList() };
}
