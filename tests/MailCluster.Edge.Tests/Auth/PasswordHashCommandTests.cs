using MailCluster.Edge.Auth;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class PasswordHashCommandTests
{
    private static (int Exit, string Output, string Error) Run(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = PasswordHashCommand.Run(args, new StringReader(stdin), output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("s3cret\n", "s3cret")]
    [InlineData("s3cret\r\n", "s3cret")]
    [InlineData("s3cret", "s3cret")]                           // no final newline
    [InlineData(" spaced pässwörd \nsecond line\n", " spaced pässwörd ")]
    public void Prints_only_the_hash_of_the_first_line(string stdin, string password)
    {
        var (exit, output, error) = Run(stdin, "--iterations", "1000");
        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.EndsWith("\n", output, StringComparison.Ordinal);
        var hash = output[..^1];
        Assert.DoesNotContain('\n', hash);
        Assert.StartsWith("pbkdf2-sha256$1000$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify(password, hash));
    }

    [Fact]
    public void Defaults_to_600000_iterations_and_accepts_password_stdin()
    {
        var (exit, output, _) = Run("s3cret\n", "--password-stdin");
        Assert.Equal(0, exit);
        Assert.StartsWith("pbkdf2-sha256$600000$", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\nsecond line\n")]
    public void Empty_password_is_exit_2(string stdin)
    {
        var (exit, output, error) = Run(stdin);
        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("no password", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--password", "s3cret")]
    [InlineData("--password=s3cret")]
    [InlineData("-p", "s3cret")]
    public void Password_on_the_command_line_is_refused(params string[] args)
    {
        var (exit, output, error) = Run("s3cret\n", args);
        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("standard input", error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--iterations")]
    [InlineData("--iterations", "0")]
    [InlineData("--iterations", "-1")]
    [InlineData("--iterations", "many")]
    [InlineData("--iterations", "10000001")]
    [InlineData("--frobnicate")]
    public void Bad_arguments_are_exit_2(params string[] args)
    {
        var (exit, output, error) = Run("s3cret\n", args);
        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Help_prints_usage_and_reads_nothing()
    {
        var (exit, output, error) = Run(string.Empty, "--help");
        Assert.Equal(0, exit);
        Assert.StartsWith("usage: hash-password", output, StringComparison.Ordinal);
        Assert.Empty(error);
    }
}
