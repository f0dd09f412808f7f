namespace MailCluster.Edge.Auth;

/// <summary>
/// An authenticated submission user. <see cref="Name"/> is spelled as configured (whatever case the client used);
/// <see cref="AllowedSenders"/> are the raw configured entries, interpreted by <see cref="SenderAuthorization"/>.
/// </summary>
public sealed record SmtpUser(string Name, IReadOnlyList<string> AllowedSenders)
{
    /// <summary>The API key this session authenticated with (its quotas apply); null for a user.</summary>
    public string? ApiKeyId { get; init; }
}

/// <summary>
/// One element of the configuration list <c>MailCluster:Smtp:Users</c>; in the environment
/// <c>MailCluster__Smtp__Users__0__Name</c>, <c>MailCluster__Smtp__Users__0__PasswordHash</c>,
/// <c>MailCluster__Smtp__Users__0__AllowedSenders__0</c>, ... Checked by <see cref="UserDirectory.Validate"/>.
/// </summary>
public sealed class SmtpUserOptions
{
    public const string Section = "MailCluster:Smtp:Users";

    /// <summary>The SASL authentication identity (authcid); compared case-insensitively.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>A <see cref="PasswordHasher"/> encoding, made with <c>dotnet MailCluster.Host.dll hash-password</c>.</summary>
    public string PasswordHash { get; set; } = string.Empty;

    /// <summary>Sender addresses (<c>user@example.com</c>) and domains (<c>example.com</c> or <c>@example.com</c>)
    /// this user may put in MAIL FROM. Empty: the user may authenticate but send nothing.</summary>
    public List<string> AllowedSenders { get; } = [];
}
