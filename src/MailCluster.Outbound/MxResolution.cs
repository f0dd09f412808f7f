using System.Net;

namespace MailCluster.Outbound;

/// <summary>One host to try, in the order of <see cref="MxResolution.Targets"/>.</summary>
/// <param name="Host">The MX exchange (or the domain itself for an implicit MX), without the trailing dot.</param>
/// <param name="Preference">The MX preference; 0 for an implicit MX.</param>
/// <param name="Addresses">The host's A and AAAA addresses, in the order to try them.</param>
public sealed record MxTarget(string Host, int Preference, IReadOnlyList<IPAddress> Addresses);

public enum MxResolutionKind
{
    Ok,
    /// <summary>Retry later: DNS timeout, SERVFAIL, or MX hosts without addresses (RFC 5321 §5.1 "temporary").</summary>
    Transient,
    /// <summary>The domain cannot receive mail: NXDOMAIN, no MX and no address, or a null MX (RFC 7505).</summary>
    Permanent,
}

/// <summary>
/// The outcome of resolving a recipient domain. When <see cref="Kind"/> is not <see cref="MxResolutionKind.Ok"/>,
/// <see cref="Code"/>, <see cref="EnhancedCode"/> and <see cref="Text"/> are what every recipient of the domain gets.
/// </summary>
/// <param name="Code">An SMTP-style reply code for the failure: 556 for a null MX (RFC 7505 §4.1); 0 otherwise,
/// since no SMTP server answered.</param>
/// <param name="EnhancedCode">RFC 3463: "5.1.10" null MX, "5.1.2" no such domain, "4.4.3" DNS failure; "2.0.0" when Ok.</param>
public sealed record MxResolution(
    MxResolutionKind Kind,
    IReadOnlyList<MxTarget> Targets,
    int Code,
    string EnhancedCode,
    string Text)
{
    public static MxResolution Ok(IReadOnlyList<MxTarget> targets) => new(MxResolutionKind.Ok, targets, 0, "2.0.0", "");

    public static MxResolution Transient(string enhancedCode, string text) =>
        new(MxResolutionKind.Transient, [], 0, enhancedCode, text);

    public static MxResolution Permanent(int code, string enhancedCode, string text) =>
        new(MxResolutionKind.Permanent, [], code, enhancedCode, text);
}
