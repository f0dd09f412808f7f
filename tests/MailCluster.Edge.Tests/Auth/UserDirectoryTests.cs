using MailCluster.Edge.Auth;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class UserDirectoryTests
{
    private static readonly string AliceHash = PasswordHasher.Hash("alice-pw", 1_000);

    private static SmtpUserOptions User(string name, string hash, params string[] senders)
    {
        var u = new SmtpUserOptions { Name = name, PasswordHash = hash };
        u.AllowedSenders.AddRange(senders);
        return u;
    }

    [Fact]
    public async Task Authenticates_with_the_right_password()
    {
        var directory = new UserDirectory([User("alice", AliceHash, "alice@example.com")]);
        var user = await directory.AuthenticateAsync("alice", "alice-pw");
        Assert.NotNull(user);
        Assert.Equal("alice", user.Name);
        Assert.Equal(["alice@example.com"], user.AllowedSenders);
    }

    [Fact]
    public async Task User_names_are_case_insensitive_and_the_configured_spelling_is_returned()
    {
        var directory = new UserDirectory([User("Alice", AliceHash)]);
        var user = await directory.AuthenticateAsync("ALICE", "alice-pw");
        Assert.Equal("Alice", user?.Name);
    }

    [Fact]
    public async Task Wrong_password_unknown_user_and_empty_directory_fail()
    {
        var directory = new UserDirectory([User("alice", AliceHash)]);
        Assert.Null(await directory.AuthenticateAsync("alice", "ALICE-PW"));
        Assert.Null(await directory.AuthenticateAsync("bob", "alice-pw"));
        Assert.Null(await new UserDirectory([]).AuthenticateAsync("alice", "alice-pw"));
    }

    [Fact]
    public async Task A_user_with_a_malformed_hash_cannot_log_in()
    {
        var directory = new UserDirectory([User("alice", "alice-pw")]);
        Assert.Null(await directory.AuthenticateAsync("alice", "alice-pw"));
    }

    [Fact]
    public void Unknown_users_cost_a_verification_at_the_usual_iteration_count()
    {
        var low = PasswordHasher.Hash("x", 1_000);
        var mid = PasswordHasher.Hash("x", 2_000);
        var directory = new UserDirectory([User("a", low), User("b", mid), User("c", mid), User("d", "broken")]);

        Assert.True(PasswordHasher.TryParse(directory.DummyHash, out var iterations, out _, out _));
        Assert.Equal(2_000, iterations);
        Assert.True(PasswordHasher.TryParse(new UserDirectory([]).DummyHash, out iterations, out _, out _));
        Assert.Equal(PasswordHasher.DefaultIterations, iterations);
    }

    [Fact]
    public async Task Duplicate_names_first_entry_wins()
    {
        var directory = new UserDirectory([User("alice", AliceHash, "a@x.example"), User("ALICE", PasswordHasher.Hash("other", 1_000))]);
        Assert.Equal(["a@x.example"], (await directory.AuthenticateAsync("alice", "alice-pw"))?.AllowedSenders);
        Assert.Null(await directory.AuthenticateAsync("alice", "other"));
    }

    [Fact]
    public void Count_is_the_users_who_can_log_in()
    {
        Assert.Equal(0, new UserDirectory([]).Count);
        Assert.Equal(2, new UserDirectory([User("alice", AliceHash), User("ALICE", AliceHash), User("", AliceHash), User("bob", AliceHash)]).Count);
    }

    [Fact]
    public void Valid_configuration_has_no_errors() =>
        Assert.Empty(new UserDirectory([User("alice", AliceHash, "alice@example.com", "example.org", "@bücher.example")]).Validate());

    [Fact]
    public void Validate_names_each_key_in_config_and_environment_spelling()
    {
        var errors = new UserDirectory(
        [
            User("alice", AliceHash),
            User(" ", AliceHash),
            User("bob", "plaintext-oops", "not an address", "bob@example.com", "@"),
            User("ALICE", AliceHash),
        ]).Validate();

        Assert.Equal(
        [
            "MailCluster:Smtp:Users:1:Name (environment: MailCluster__Smtp__Users__1__Name): empty; every user needs a name",
            "MailCluster:Smtp:Users:2:PasswordHash (environment: MailCluster__Smtp__Users__2__PasswordHash): not a pbkdf2-sha256 hash; create one with 'dotnet MailCluster.Host.dll hash-password'",
            "MailCluster:Smtp:Users:2:AllowedSenders:0 (environment: MailCluster__Smtp__Users__2__AllowedSenders__0): 'not an address' is neither an address (user@example.com) nor a domain (example.com or @example.com)",
            "MailCluster:Smtp:Users:2:AllowedSenders:2 (environment: MailCluster__Smtp__Users__2__AllowedSenders__2): '@' is neither an address (user@example.com) nor a domain (example.com or @example.com)",
            "MailCluster:Smtp:Users:3:Name (environment: MailCluster__Smtp__Users__3__Name): 'ALICE' duplicates MailCluster:Smtp:Users:0:Name (user names are case-insensitive)",
        ],
        errors);
    }

    [Fact]
    public void Validate_never_echoes_the_password_hash_value()
    {
        var errors = new UserDirectory([User("bob", "hunter2")]).Validate();
        Assert.DoesNotContain(errors, e => e.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Binds_from_the_documented_configuration_keys()
    {
        // The keys the environment provider produces from MailCluster__Smtp__Users__0__Name etc.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MailCluster:Smtp:Users:0:Name"] = "alice",
            ["MailCluster:Smtp:Users:0:PasswordHash"] = AliceHash,
            ["MailCluster:Smtp:Users:0:AllowedSenders:0"] = "alice@example.com",
            ["MailCluster:Smtp:Users:0:AllowedSenders:1"] = "@example.org",
            ["MailCluster:Smtp:Users:1:Name"] = "bob",
        }).Build();

        var options = configuration.GetSection(SmtpUserOptions.Section).Get<List<SmtpUserOptions>>() ?? [];
        Assert.Equal(["alice", "bob"], options.Select(o => o.Name));
        Assert.Equal(["alice@example.com", "@example.org"], options[0].AllowedSenders);
        Assert.Empty(options[1].AllowedSenders);

        var directory = new UserDirectory(options);
        Assert.Single(directory.Validate()); // bob has no hash
        Assert.NotNull(await directory.AuthenticateAsync("alice", "alice-pw"));
    }
}
