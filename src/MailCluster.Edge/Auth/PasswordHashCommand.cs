using System.Globalization;

namespace MailCluster.Edge.Auth;

/// <summary>
/// <c>dotnet MailCluster.Host.dll hash-password [--password-stdin] [--iterations N]</c>: reads the password from
/// the first line of standard input (so it never appears in shell history or the process list) and prints only
/// its <see cref="PasswordHasher"/> encoding and "\n", ready for <c>MailCluster__Smtp__Users__N__PasswordHash</c>.
/// The line is taken verbatim apart from its line ending: leading and trailing spaces are part of the password.
/// Example: <c>read -rs PW; printf '%s\n' "$PW" | dotnet MailCluster.Host.dll hash-password</c>.
/// </summary>
public static class PasswordHashCommand
{
    public const string Name = "hash-password";

    public const int Success = 0;

    /// <summary>Bad arguments or no usable password on standard input.</summary>
    public const int UsageError = 2;

    private const string Usage =
        "usage: hash-password [--password-stdin] [--iterations N]\n" +
        "  Reads the password from the first line of standard input and prints its hash.\n";

    /// <param name="args">The arguments after the command name.</param>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var iterations = PasswordHasher.DefaultIterations;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--password-stdin":
                    break; // the only source; accepted so scripts can say so
                case "--iterations" when i + 1 < args.Length
                    && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations)
                    && iterations is >= 1 and <= PasswordHasher.MaxIterations:
                    i++;
                    break;
                case "--iterations":
                    return Fail(error, $"hash-password: --iterations needs a whole number from 1 to {PasswordHasher.MaxIterations}\n");
                case "-h" or "--help":
                    output.Write(Usage);
                    return Success;
                case var a when a.StartsWith("--password", StringComparison.Ordinal) || a == "-p":
                    return Fail(error, "hash-password: a password on the command line lands in shell history and 'ps'; pipe it on standard input instead\n");
                default:
                    return Fail(error, $"hash-password: unexpected argument '{args[i]}'\n{Usage}");
            }
        }

        var password = input.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            return Fail(error, "hash-password: no password on the first line of standard input\n");
        }

        output.Write(PasswordHasher.Hash(password, iterations));
        output.Write('\n');
        return Success;
    }

    private static int Fail(TextWriter error, string message)
    {
        error.Write(message);
        return UsageError;
    }
}
