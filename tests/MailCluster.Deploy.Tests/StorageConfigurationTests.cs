using MailCluster.Testing;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>A node refuses a malformed PostgreSQL connection string at start with a configuration error that names the
/// key it came from (the variable or the file key of a mounted Secret) and never prints the password.</summary>
public sealed class StorageConfigurationTests
{
    [Fact]
    public async Task A_malformed_uri_is_a_configuration_error_naming_the_key()
    {
        var log = await RefusedAsync(new() { ["MailCluster__Storage__ConnectionString"] = "postgresql://mc:hunter2@db:99999/mc" });

        Assert.Contains("MailCluster:Storage:ConnectionString (environment: MailCluster__Storage__ConnectionString): is neither an Npgsql connection string nor a postgresql:// URI: port '99999'", log, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_or_missing_connection_string_file_is_a_configuration_error_naming_the_file_key()
    {
        using var temp = new TempDirectory();
        var file = Path.Combine(temp.Path, "uri");
        await File.WriteAllTextAsync(file, "postgresql://mc:hunter2@db/mc?sslmode=sometimes\n", TestContext.Current.CancellationToken);

        var malformed = await RefusedAsync(new() { ["MailCluster__Storage__ConnectionStringFile"] = file });
        var missing = await RefusedAsync(new() { ["MailCluster__Storage__ConnectionStringFile"] = file + ".missing" });

        Assert.Contains("MailCluster:Storage:ConnectionStringFile (environment: MailCluster__Storage__ConnectionStringFile): is neither an Npgsql connection string nor a postgresql:// URI: URI parameter sslmode='sometimes'", malformed, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", malformed, StringComparison.Ordinal);
        Assert.Contains($"MailCluster:Storage:ConnectionStringFile (environment: MailCluster__Storage__ConnectionStringFile): file '{file}.missing' cannot be read or is empty", missing, StringComparison.Ordinal);
    }

    private static async Task<string> RefusedAsync(Dictionary<string, string> storage)
    {
        using var temp = new TempDirectory();
        var env = new Dictionary<string, string>(storage, StringComparer.Ordinal)
        {
            ["MailCluster__DataDir"] = temp.Path,
            ["MailCluster__Storage__Provider"] = "PostgreSql",
        };
        await using var node = NodeProcess.Start(env, "deploy-config");

        Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        return node.Log;
    }
}
