using System.Security.Cryptography.X509Certificates;

namespace MailCluster.Outbound.Dane;

/// <summary>Whether a server's certificate chain authenticates against TLSA records (RFC 7672 §3); pure.</summary>
public static class DaneAuthentication
{
    /// <summary>
    /// Checks the chain the server presented (<paramref name="presented"/>: its certificate first, then whatever it
    /// sent) against <paramref name="records"/> (the usable ones; see <see cref="TlsaRecord.IsUsable"/>):
    /// <list type="bullet">
    /// <item>DANE-EE(3): the server's certificate (or its key) matches; neither its names nor its validity dates are
    /// checked (RFC 7672 §3.1.1).</item>
    /// <item>DANE-TA(2): a certificate the server sent above its own (or the full certificate in a "2 0 0" record)
    /// matches, the server's certificate chains to it at <paramref name="now"/>, and names one of
    /// <paramref name="referenceNames"/> (RFC 7672 §3.2.2: the MX host name, and the next-hop domain; a wildcard only as
    /// the whole left-most label).</item>
    /// </list>
    /// Returns null when authenticated, else why not (for the deferral's reply text and TLS-RPT).
    /// </summary>
    public static string? Check(IReadOnlyList<X509Certificate2> presented, IReadOnlyList<string> referenceNames, IReadOnlyList<TlsaRecord> records, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(presented);
        ArgumentNullException.ThrowIfNull(referenceNames);
        ArgumentNullException.ThrowIfNull(records);
        if (presented.Count == 0)
        {
            return "no server certificate";
        }

        var leaf = presented[0];
        if (records.Any(r => r.Usage == TlsaRecord.DaneEe && r.Matches(leaf)))
        {
            return null;
        }

        var taRecords = records.Where(r => r.Usage == TlsaRecord.DaneTa && r.IsUsable).ToList();
        if (taRecords.Count == 0)
        {
            return "no DANE-EE record matches the server certificate";
        }

        foreach (var anchor in Anchors(presented, taRecords))
        {
            if (ChainsTo(leaf, presented, anchor, now))
            {
                return referenceNames.Any(name => leaf.MatchesHostname(name, allowWildcards: true, allowCommonName: false))
                    ? null
                    : $"server certificate does not name {string.Join(" or ", referenceNames)}";
            }
        }

        return "the server certificate does not chain to a DANE-TA trust anchor";
    }

    /// <summary>Presented certificates above the server's own that match a DANE-TA record, and the certificates that
    /// "2 0 0" records carry whole (a server need not send an anchor published in full).</summary>
    private static IEnumerable<X509Certificate2> Anchors(IReadOnlyList<X509Certificate2> presented, List<TlsaRecord> taRecords)
    {
        foreach (var certificate in presented.Skip(1))
        {
            if (taRecords.Any(r => r.Matches(certificate)))
            {
                yield return certificate;
            }
        }

        foreach (var record in taRecords.Where(r => r is { Selector: 0, MatchingType: 0 }))
        {
            X509Certificate2? whole = null;
            try
            {
                whole = X509CertificateLoader.LoadCertificate(record.Data);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // Not a certificate: the record cannot serve as an anchor.
            }

            if (whole is not null)
            {
                yield return whole;
            }
        }
    }

    private const X509ChainStatusFlags AboveTheAnchor = X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.UntrustedRoot;

    private static bool ChainsTo(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, X509Certificate2 anchor, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(anchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // DANE replaces revocation by the TLSA TTL
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.ExtraStore.AddRange(presented.Skip(1).ToArray());
        chain.Build(leaf);

        // An anchor that is not self-signed ends the chain early: the builder then reports the chain as partial or its
        // root untrusted. What counts is the chain from the server's certificate up to the anchor: every element up to
        // and including it must be valid (signature, dates, usage), whatever is said about elements above it.
        for (int i = 0; i < chain.ChainElements.Count; i++)
        {
            var element = chain.ChainElements[i];
            if (element.ChainElementStatus.Any(s => (s.Status & ~AboveTheAnchor) != 0))
            {
                return false;
            }

            if (element.Certificate.RawDataMemory.Span.SequenceEqual(anchor.RawDataMemory.Span))
            {
                return i > 0; // the anchor is above the server's own certificate
            }
        }

        return false;
    }
}
