using System.ComponentModel;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public class UserNameSettings : GlobalSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The SMTP AUTH user name (case-insensitive)")]
    public string Name { get; init; } = "";
}

public class UserPasswordSettings : UserNameSettings
{
    [CommandOption("--password-file <PATH>")]
    [Description("Read the password from this file (its first line); '-' or absent: from standard input. Never an argument, which other users could see in the process list")]
    public string PasswordFile { get; init; } = "-";

    /// <summary>The first line of the file or of standard input, exactly (no trimming but the line end).</summary>
    public string ReadPassword()
    {
        var line = PasswordFile == "-" ? Console.In.ReadLine() : File.ReadLines(PasswordFile).FirstOrDefault();
        return string.IsNullOrEmpty(line) ? throw new CliException(ExitCodes.Usage, "the password is empty") : line;
    }
}

public sealed class UserAddSettings : UserPasswordSettings
{
    [CommandOption("--sender <SENDER>")]
    [Description("An address (app@example.com) or domain (example.com) the user may send as; repeat for more")]
    public string[] Senders { get; init; } = [];
}

/// <summary><c>user add NAME [--sender S]... [--password-file F]</c>: POST /api/v1/users; in force on every node within seconds.</summary>
public sealed class UserAddCommand : ApiCommand<UserAddSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, UserAddSettings settings, CancellationToken ct)
    {
        var created = await api.SendAsync(HttpMethod.Post, "api/v1/users", new { name = settings.Name, password = settings.ReadPassword(), allowed_senders = settings.Senders }, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(created);
        }
        else
        {
            output.Say($"user {Output.Text(created, "name")} added");
        }

        return ExitCodes.Ok;
    }
}

/// <summary><c>user passwd NAME [--password-file F]</c>: PATCH /api/v1/users/{name} with a new password.</summary>
public sealed class UserPasswdCommand : ApiCommand<UserPasswordSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, UserPasswordSettings settings, CancellationToken ct)
    {
        var changed = await api.SendAsync(HttpMethod.Patch, $"api/v1/users/{Segment(settings.Name)}", new { password = settings.ReadPassword() }, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(changed);
        }
        else
        {
            output.Say($"password of {settings.Name} changed");
        }

        return ExitCodes.Ok;
    }
}

/// <summary><c>user list</c>: GET /api/v1/users (runtime and configured users, never a hash).</summary>
public sealed class UserListCommand : ApiCommand<GlobalSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, GlobalSettings settings, CancellationToken ct)
    {
        var users = (await api.GetAsync("api/v1/users", ct).ConfigureAwait(false)).GetProperty("users");
        var table = Output.NewTable("name", "source", "allowed senders", "updated");
        foreach (var user in users.EnumerateArray())
        {
            if (output.Json)
            {
                output.Line(user);
            }
            else
            {
                var senders = string.Join(' ', user.GetProperty("allowed_senders").EnumerateArray().Select(s => s.GetString()));
                Output.Row(table, Output.Text(user, "name"), Output.Text(user, "source"), senders, Output.Text(user, "updated_at"));
            }
        }

        if (!output.Json)
        {
            output.Table(table);
        }

        return ExitCodes.Ok;
    }
}

/// <summary><c>user remove NAME</c>: DELETE /api/v1/users/{name}; refused on every node within seconds.</summary>
public sealed class UserRemoveCommand : ApiCommand<UserNameSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, UserNameSettings settings, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Delete, $"api/v1/users/{Segment(settings.Name)}", null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say($"user {settings.Name} removed");
        }

        return ExitCodes.Ok;
    }
}
