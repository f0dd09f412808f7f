namespace MailCluster.Edge.Credentials;

/// <summary>
/// An SMTP AUTH user created at run time (<c>/api/v1/users</c>, <c>mailcluster user add</c>), as the cluster database
/// holds it. <see cref="PasswordHash"/> is a <see cref="Auth.PasswordHasher"/> encoding (PBKDF2): every password
/// change makes a new salt, so the hash also identifies the password's version (the verified-credential cache keys on it).
/// </summary>
/// <param name="Name">As created; unique case-insensitively (ordinal), like configured users.</param>
public sealed record RuntimeUser(string Name, string PasswordHash, IReadOnlyList<string> AllowedSenders, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
