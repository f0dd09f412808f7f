namespace MailCluster.Edge.Credentials;

/// <summary>
/// Checks a presented API key secret: the one seam the SMTP edge and the HTTP injection API share. Answers from the
/// node's in-memory copy of the keys (<see cref="CredentialSet"/>, refreshed from the database every 2 s), so a
/// verification costs one SHA-256 and a dictionary lookup; a key created, disabled or deleted on any node is in
/// force, or refused, here within about 2 s (at once on the node that made the change).
/// </summary>
public interface IApiKeyVerifier
{
    /// <summary>
    /// The key whose secret is <paramref name="secret"/>, when it exists, is enabled and carries every scope in
    /// <paramref name="scope"/>; else null (unknown, wrong, disabled or out of scope: the caller answers 535 5.7.8 or
    /// 401 and tells no difference). With <paramref name="keyId"/> (SMTP AUTH: the user name), the key must also have
    /// that id. Then check the sender with <see cref="ApiKey.MaySendAs"/> (553 5.7.1 / 403) and the quotas with
    /// <see cref="IQuotaGate.TryConsumeAsync"/> (451 4.7.1 / 429).
    /// </summary>
    ValueTask<ApiKey?> VerifyAsync(string secret, ApiKeyScopes scope, string? keyId = null, CancellationToken cancellationToken = default);
}
