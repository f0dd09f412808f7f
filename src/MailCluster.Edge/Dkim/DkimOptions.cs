namespace MailCluster.Edge.Dkim;

/// <summary>
/// DKIM signing keys, bound from <c>MailCluster:Dkim:Domains:N</c> (environment
/// <c>MailCluster__Dkim__Domains__N__Domain</c>, <c>__Selector</c>, <c>__KeyPath</c>, <c>__Algorithm</c>). Two entries
/// for one domain sign every message twice (dual signing, e.g. RSA for old verifiers and Ed25519, RFC 8463 §1).
/// </summary>
public sealed class DkimOptions
{
    public const string Section = "MailCluster:Dkim";

    public List<DkimDomainOptions> Domains { get; init; } = [];
}

/// <summary>One signing key: the d= domain, the s= selector, the PEM file and the a= algorithm.</summary>
public sealed class DkimDomainOptions
{
    /// <summary>The sender domain (the From header's domain) that this key signs for, and the d= tag.</summary>
    public string Domain { get; set; } = "";

    /// <summary>The s= tag: the key is published at <c>selector._domainkey.domain</c>.</summary>
    public string Selector { get; set; } = "";

    /// <summary>A PEM private key (PKCS#1 or PKCS#8), typically a mounted Kubernetes Secret; reloaded when it changes.</summary>
    public string KeyPath { get; set; } = "";

    /// <summary><c>rsa-sha256</c> (the default) or <c>ed25519-sha256</c>.</summary>
    public string Algorithm { get; set; } = DkimAlgorithms.RsaSha256;
}
