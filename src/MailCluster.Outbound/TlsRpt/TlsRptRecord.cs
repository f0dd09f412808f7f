namespace MailCluster.Outbound.TlsRpt;

/// <summary>The <c>_smtp._tls.&lt;domain&gt;</c> TXT record (RFC 8460 §3): <c>v=TLSRPTv1; rua=mailto:a@b,https://c/d</c>. Pure.</summary>
public static class TlsRptRecord
{
    /// <summary>The report URIs (mailto: and https: only; others ignored) of the single v=TLSRPTv1 record; empty
    /// when there is none, or more than one (§3: then no report is sent).</summary>
    public static IReadOnlyList<Uri> FindRua(IEnumerable<string> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var matching = records.Where(r => r.StartsWith("v=TLSRPTv1", StringComparison.Ordinal)
            && (r.Length == 10 || r[10] is ';' or ' ' or '\t')).ToList();
        if (matching.Count != 1)
        {
            return [];
        }

        var uris = new List<Uri>();
        foreach (string field in matching[0].Split(';').Skip(1))
        {
            string f = field.Trim(' ', '\t');
            if (!f.StartsWith("rua=", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (string item in f[4..].Split(','))
            {
                if (Uri.TryCreate(item.Trim(' ', '\t'), UriKind.Absolute, out var uri)
                    && (uri.Scheme == Uri.UriSchemeMailto || uri.Scheme == Uri.UriSchemeHttps))
                {
                    uris.Add(uri);
                }
            }
        }

        return uris;
    }
}
