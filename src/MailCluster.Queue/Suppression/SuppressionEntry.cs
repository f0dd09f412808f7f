namespace MailCluster.Queue.Suppression;

/// <summary>
/// One suppressed address (issue 16). <paramref name="Credential"/> is null for a global entry (every sender) or the
/// SMTP user / API key id whose submissions it applies to. <paramref name="Address"/> is stored normalised
/// (<see cref="SuppressionEntry.Normalize"/>). <paramref name="Source"/> says what added it: a hard bounce's
/// "queue id: reply" or an operator's note.
/// </summary>
public sealed record SuppressionEntry(
    string Address,
    string? Credential,
    string Reason,
    string Source,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt)
{
    public const int MaxAddressLength = 320;
    public const int MaxCredentialLength = 200;
    public const int MaxReasonLength = 300;
    public const int MaxSourceLength = 1000;

    /// <summary>"global", or "credential" for an entry of one credential.</summary>
    public string Scope => Credential is null ? "global" : "credential";

    public bool IsActive(DateTimeOffset now) => ExpiresAt > now;

    /// <summary>
    /// The key an address is suppressed under: trimmed and lower-cased as a whole (invariant culture). RFC 5321 lets a
    /// local part be case-sensitive, but no mailbox provider of note treats Bob@ and bob@ as two people, and a
    /// suppression list that missed a case variant would mail an address that bounced.
    /// </summary>
    public static string Normalize(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.Trim().ToLowerInvariant();
    }

    /// <summary>Why an address cannot be suppressed (for the API's problem details), or null.</summary>
    public static string? AddressProblem(string? address)
    {
        if (string.IsNullOrWhiteSpace(address) || address.Length > MaxAddressLength)
        {
            return $"address must be a mailbox address (local@domain) of at most {MaxAddressLength} characters";
        }

        var at = address.LastIndexOf('@');
        return at <= 0 || at == address.Length - 1 || address.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>')
            ? $"'{address}' is not a mailbox address (local@domain)"
            : null;
    }
}
