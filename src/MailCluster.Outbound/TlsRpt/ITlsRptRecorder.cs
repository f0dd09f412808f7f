namespace MailCluster.Outbound.TlsRpt;

/// <summary>One session (or one policy fetch) as TLS-RPT counts it (RFC 8460 §4.3, §4.4).</summary>
/// <param name="PolicyDomain">The recipient domain the policy belongs to.</param>
/// <param name="Policy">The policy body for "policy-string" (MTA-STS); null for no-policy-found.</param>
/// <param name="MxHost">The MX host the session was with; null for a policy fetch failure.</param>
/// <param name="ReceivingIp">The address connected to; null when none.</param>
public sealed record TlsRptSession(string PolicyDomain, TlsRptPolicyType PolicyType, string? Policy, TlsRptResult Result, string? MxHost, string? ReceivingIp);

/// <summary>Counts sessions for the daily TLS-RPT reports; never blocks delivery and never throws.</summary>
public interface ITlsRptRecorder
{
    void Record(TlsRptSession session);
}

/// <summary>For TLS-RPT switched off (and unit tests that do not count).</summary>
public sealed class NoTlsRptRecorder : ITlsRptRecorder
{
    public static readonly NoTlsRptRecorder Instance = new();

    public void Record(TlsRptSession session)
    {
    }
}
