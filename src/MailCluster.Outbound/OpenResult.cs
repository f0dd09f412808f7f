using System.Security.Authentication;
using MailCluster.Queue.Delivery;

namespace MailCluster.Outbound;

/// <summary>The result of opening one client connection (SMTP or LMTP) to one next-hop address: the connection, or why not.</summary>
/// <param name="Connected">True when TCP connected before the failure (RFC 3463 X.4.2 rather than X.4.1).</param>
/// <param name="TlsHandshakeFailed">True when the peer offered STARTTLS and the handshake failed (garbage after its
/// 220, a certificate or suite the handshake cannot complete): see <see cref="TlsPolicy.AfterHandshakeFailure"/>.</param>
internal sealed record OpenResult(IDeliveryConnection? Connection, string Remote, string? Error, bool Connected, bool TlsHandshakeFailed = false)
{
    /// <summary>The verdict on the peer's certificate when a TLS handshake got that far; null otherwise.</summary>
    public CertificateVerdict? Certificate { get; init; }

    /// <summary>True when a policy demanded TLS and the peer did not offer STARTTLS.</summary>
    public bool StartTlsMissing { get; init; }
}

/// <summary>The failure texts and fill-ins the SMTP and LMTP client connections share.</summary>
internal static class ClientFailures
{
    /// <summary>Every recipient still without an outcome gets the given one (<see cref="IDeliveryConnection"/>:
    /// exactly one outcome per recipient).</summary>
    public static RecipientOutcome[] Fill(RecipientOutcome?[] outcomes, DeliveryRequest request, OutcomeKind kind, int code, string enhanced, string text) =>
        [.. outcomes.Select((o, i) => o ?? new RecipientOutcome(request.Recipients[i], kind, code, enhanced, text))];

    public static string Describe(Exception e) => e switch
    {
        AuthenticationException => $"TLS handshake failed: {e.Message}",
        TimeoutException or OperationCanceledException => $"timed out: {e.Message}",
        _ => e.Message,
    };
}
