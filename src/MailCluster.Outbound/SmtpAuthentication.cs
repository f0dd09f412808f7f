using System.Net;
using MailKit.Security;

namespace MailCluster.Outbound;

/// <summary>
/// RFC 4954 AUTH for a smarthost route, with MailKit's SASL mechanisms (they compute the responses; this class speaks
/// the exchange over <see cref="SmtpPeer"/>). A password goes with the strongest mechanism the peer offers
/// (SCRAM before PLAIN before LOGIN); an OAuth2 bearer token with XOAUTH2, whose error challenge the mechanism answers
/// with the empty line it requires.
/// </summary>
internal static class SmtpAuthentication
{
    /// <summary>Preference order, strongest first; mechanisms the peer does not offer are skipped.</summary>
    private static readonly string[] Ranked = ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"];

    /// <returns>Null when authenticated; else why not (the session is then unusable for this route).</returns>
    public static async Task<string?> AuthenticateAsync(SmtpPeer peer, string host, string username, string? password,
        OAuth.OAuthAccessToken? token, int timeoutMs, CancellationToken ct)
    {
        var offered = new HashSet<string>(peer.ParametersOf("AUTH"), StringComparer.OrdinalIgnoreCase);
        if (token is not null)
        {
            if (!offered.Contains("XOAUTH2"))
            {
                return "the server does not offer AUTH XOAUTH2";
            }

            string? failure = await ExchangeAsync(peer, "XOAUTH2", new SaslMechanismOAuth2(username, token.Value), host, timeoutMs, ct).ConfigureAwait(false);
            if (failure is not null)
            {
                token.Reject();
            }

            return failure;
        }

        var credentials = new NetworkCredential(username, password ?? "");
        string? last = null;
        foreach (var name in Ranked.Where(offered.Contains))
        {
            if (SaslMechanism.Create(name, credentials) is not { } mechanism)
            {
                continue;
            }

            last = await ExchangeAsync(peer, name, mechanism, host, timeoutMs, ct).ConfigureAwait(false);
            if (last is null || !last.StartsWith("534 ", StringComparison.Ordinal))
            {
                return last; // success, or a refusal a weaker mechanism would not change; 534 "too weak" tries the next
            }
        }

        return last ?? (offered.Count == 0 ? "the server does not offer AUTH" : $"no supported AUTH mechanism among {string.Join(' ', offered)}");
    }

    /// <summary>No mechanism used here needs more; a server that keeps challenging is cut off.</summary>
    private const int MaxChallenges = 8;

    private static async Task<string?> ExchangeAsync(SmtpPeer peer, string name, SaslMechanism mechanism, string host, int timeoutMs, CancellationToken ct)
    {
        string command = mechanism.SupportsInitialResponse
            ? $"AUTH {name} {await mechanism.ChallengeAsync(null, ct).ConfigureAwait(false)}"
            : $"AUTH {name}";
        var reply = await peer.CommandAsync(command, timeoutMs, ct).ConfigureAwait(false);
        try
        {
            for (int round = 0; reply.Code == 334 && round < MaxChallenges; round++)
            {
                // A challenge after the mechanism is done is the server's error report (XOAUTH2): an empty line ends it.
                string response = mechanism.IsAuthenticated ? "" : await mechanism.ChallengeAsync(reply.Text, ct).ConfigureAwait(false);
                reply = await peer.CommandAsync(response, timeoutMs, ct).ConfigureAwait(false);
            }
        }
        catch (SaslException e)
        {
            // RFC 4954 §4: "*" cancels the exchange; the server answers 501.
            await peer.CommandAsync("*", timeoutMs, ct).ConfigureAwait(false);
            return $"AUTH {name} failed: {e.Message}";
        }

        return reply.Code == 235 ? null : $"{reply.Code} {reply.Text}";
    }
}
