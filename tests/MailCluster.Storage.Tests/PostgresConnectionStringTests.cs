using MailCluster.Storage;
using Npgsql;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// <c>MailCluster:Storage:ConnectionString</c> in both forms: Npgsql's key=value and the libpq URI that CloudNativePG's
/// Secret holds under <c>uri</c>; a malformed value is refused with a reason that never repeats the password; and the
/// URI form opens a real PostgreSQL connection.
/// </summary>
public sealed class PostgresConnectionStringTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public void A_CloudNativePG_uri_becomes_the_npgsql_form()
    {
        var npgsql = new NpgsqlConnectionStringBuilder(
            PostgresConnectionString.ToNpgsql("postgresql://mailcluster:s3cr%40t+%2Fx@mailcluster-db-rw.mail:5432/mailcluster"));

        Assert.Equal("mailcluster-db-rw.mail", npgsql.Host);
        Assert.Equal(5432, npgsql.Port);
        Assert.Equal("mailcluster", npgsql.Username);
        Assert.Equal("s3cr@t+/x", npgsql.Password); // percent-decoded; '+' is a plus sign in a URI
        Assert.Equal("mailcluster", npgsql.Database);
    }

    [Fact]
    public void Uri_parameters_map_to_npgsql_keywords()
    {
        var npgsql = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ToNpgsql(
            "postgres://app@db1:5433,db2,[::1]:5434/mc?sslmode=verify-full&application_name=mailcluster&connect_timeout=7&target_session_attrs=read-write"));

        Assert.Equal("db1:5433,db2,::1:5434", npgsql.Host);
        Assert.Equal(SslMode.VerifyFull, npgsql.SslMode);
        Assert.Equal("mailcluster", npgsql.ApplicationName);
        Assert.Equal(7, npgsql.Timeout);
        Assert.Equal("read-write", npgsql.TargetSessionAttributes);
        Assert.Null(npgsql.Password);
    }

    [Fact]
    public void The_key_value_form_is_kept()
    {
        var npgsql = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ToNpgsql("Host=db;Port=6432;Username=mc;Password=p;Database=mc"));

        Assert.Equal(("db", 6432, "mc", "p", "mc"), (npgsql.Host, npgsql.Port, npgsql.Username, npgsql.Password, npgsql.Database));
    }

    [Theory]
    [InlineData("postgresql://u:secretpw@db:99999/mc", "port '99999'")]
    [InlineData("postgresql://u:secretpw@db/mc?sslmode=sometimes", "sslmode='sometimes'")]
    [InlineData("postgresql://u:secretpw@db/mc?fallback=yes", "'fallback' is not supported")]
    [InlineData("postgresql://u:secretpw@db/mc?sslmode", "'sslmode' has no value")]
    [InlineData("postgresql://u:secretpw@/mc", "names no host")]
    [InlineData("Host=db;Pasword=secretpw", "pasword")]
    public void A_malformed_value_is_refused_with_a_reason_without_the_password(string value, string reason)
    {
        var problem = PostgresConnectionString.Problem(value);

        Assert.NotNull(problem);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("secretpw", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_file_is_read_and_trimmed()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "postgresql://u:p@db/mc\n");
            Assert.Equal(("MailCluster:Storage:ConnectionStringFile", "postgresql://u:p@db/mc"), PostgresConnectionString.Configured(new StorageOptions { ConnectionStringFile = file }));
            Assert.Equal(("MailCluster:Storage:ConnectionString", "Host=x"), PostgresConnectionString.Configured(new StorageOptions { ConnectionString = "Host=x", ConnectionStringFile = file }));
            Assert.Equal(("MailCluster:Storage:ConnectionStringFile", (string?)null), PostgresConnectionString.Configured(new StorageOptions { ConnectionStringFile = file + ".missing" }));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_uri_form_connects_to_a_real_server()
    {
        var given = new NpgsqlConnectionStringBuilder(await postgres.NewDatabaseAsync());
        var uri = $"postgresql://{given.Username}@{given.Host}:{given.Port}/{given.Database}?connect_timeout=10";

        await using var connection = new NpgsqlConnection(PostgresConnectionString.ToNpgsql(uri));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT current_database()", connection);

        Assert.Equal(given.Database, await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }
}
