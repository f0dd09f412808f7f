using MailCluster.Edge.Credentials;
using Xunit;

namespace MailCluster.Edge.Tests.Credentials;

public class ApiKeyTests
{
    private static ApiKey Key(ApiKeyScopes scopes = ApiKeyScopes.Smtp | ApiKeyScopes.Http, bool enabled = true, params string[] senders) =>
        new(ApiKeySecrets.NewId(), "app", ApiKeySecrets.Hash("s"), senders, scopes, null, null, enabled, DateTimeOffset.UtcNow);

    [Fact]
    public void A_domain_entry_allows_any_address_there_and_an_address_entry_only_itself()
    {
        var key = Key(senders: ["example.com", "app@example.org"]);
        Assert.True(key.MaySendAs("anyone@example.com"));
        Assert.True(key.MaySendAs("Someone@EXAMPLE.COM"));
        Assert.True(key.MaySendAs("app@example.org"));
        Assert.False(key.MaySendAs("other@example.org"));
        Assert.False(key.MaySendAs("App@example.org")); // local parts are case-sensitive
        Assert.False(key.MaySendAs("x@sub.example.com")); // not subdomains
        Assert.False(key.MaySendAs("x@example.net"));
        Assert.False(key.MaySendAs(""));
        Assert.False(key.MaySendAs("<>"));
    }

    [Fact]
    public void Scopes_must_all_be_held()
    {
        var smtpOnly = Key(ApiKeyScopes.Smtp, senders: "example.com");
        Assert.True(smtpOnly.Allows(ApiKeyScopes.Smtp));
        Assert.False(smtpOnly.Allows(ApiKeyScopes.Http));
        Assert.False(smtpOnly.Allows(ApiKeyScopes.Smtp | ApiKeyScopes.Http));
        Assert.False(smtpOnly.Allows(ApiKeyScopes.None));
        Assert.Equal(["smtp", "http"], ApiKeyScopeNames.Names(ApiKeyScopes.Smtp | ApiKeyScopes.Http));
    }

    [Fact]
    public void Ids_and_secrets_have_their_forms_and_only_the_hash_identifies_a_secret()
    {
        var id = ApiKeySecrets.NewId();
        Assert.True(ApiKeySecrets.IsKeyId(id));
        Assert.False(ApiKeySecrets.IsKeyId("key_0123456789ABCDEF"));
        Assert.False(ApiKeySecrets.IsKeyId("alice"));
        var secret = ApiKeySecrets.NewSecret();
        Assert.StartsWith("mck_", secret, StringComparison.Ordinal);
        Assert.Equal(4 + 43, secret.Length);
        Assert.NotEqual(ApiKeySecrets.Hash(secret), ApiKeySecrets.Hash(ApiKeySecrets.NewSecret()));
        Assert.Equal(64, ApiKeySecrets.Hash(secret).Length);
    }

    [Fact]
    public async Task Verification_needs_the_secret_an_enabled_key_the_scope_and_the_id_when_given()
    {
        var secret = ApiKeySecrets.NewSecret();
        var key = new ApiKey(ApiKeySecrets.NewId(), "app", ApiKeySecrets.Hash(secret), ["example.com"], ApiKeyScopes.Smtp, 10, null, true, DateTimeOffset.UtcNow);
        var disabledSecret = ApiKeySecrets.NewSecret();
        var disabled = key with { Id = ApiKeySecrets.NewId(), SecretHash = ApiKeySecrets.Hash(disabledSecret), Enabled = false };
        var set = new CredentialSet();
        Assert.False(set.Loaded);
        set.Replace([], [key, disabled]);

        Assert.Equal(key, await set.VerifyAsync(secret, ApiKeyScopes.Smtp));
        Assert.Equal(key, await set.VerifyAsync(secret, ApiKeyScopes.Smtp, key.Id));
        Assert.Null(await set.VerifyAsync(secret, ApiKeyScopes.Smtp, disabled.Id));
        Assert.Null(await set.VerifyAsync(secret, ApiKeyScopes.Http));
        Assert.Null(await set.VerifyAsync(secret + "x", ApiKeyScopes.Smtp));
        Assert.Null(await set.VerifyAsync(disabledSecret, ApiKeyScopes.Smtp));
        Assert.Equal(1, set.SmtpLogins);
        Assert.Equal(2, set.Keys.Count);
    }
}
