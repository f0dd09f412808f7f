using System.ComponentModel;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class TokenCreateSettings : GlobalSettings
{
    [CommandOption("--name <NAME>")]
    [Description("What the token is for (shown in listings and the audit log)")]
    public string Name { get; init; } = "";

    [CommandOption("--role <ROLE>")]
    [Description("read, operate or admin")]
    public string Role { get; init; } = "read";

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Name) ? Spectre.Console.ValidationResult.Error("--name is required") : base.Validate();
}

/// <summary><c>token create --name N --role R</c>: POST /api/v1/tokens; prints the id and the secret (shown once).</summary>
public sealed class TokenCreateCommand : ApiCommand<TokenCreateSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, TokenCreateSettings settings, CancellationToken ct)
    {
        var created = await api.SendAsync(HttpMethod.Post, "api/v1/tokens", new { name = settings.Name, role = settings.Role }, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(created);
            return ExitCodes.Ok;
        }

        var table = Output.NewTable("id", "name", "role", "token");
        Output.Row(table, Output.Text(created, "id"), Output.Text(created, "name"), Output.Text(created, "role"), Output.Text(created, "token"));
        output.Table(table);
        output.Say("The token is shown this once: keep it now.");
        return ExitCodes.Ok;
    }
}

/// <summary><c>token list</c>: GET /api/v1/tokens, never a secret.</summary>
public sealed class TokenListCommand : ApiCommand<GlobalSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, GlobalSettings settings, CancellationToken ct)
    {
        var tokens = (await api.GetAsync("api/v1/tokens", ct).ConfigureAwait(false)).GetProperty("tokens");
        var table = Output.NewTable("id", "name", "role", "created");
        foreach (var token in tokens.EnumerateArray())
        {
            if (output.Json)
            {
                output.Line(token);
            }
            else
            {
                Output.Row(table, Output.Text(token, "id"), Output.Text(token, "name"), Output.Text(token, "role"), Output.Text(token, "createdAt") ?? "(file)");
            }
        }

        if (!output.Json)
        {
            output.Table(table);
        }

        return ExitCodes.Ok;
    }
}

public sealed class TokenRevokeSettings : GlobalSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The token's id (from token list)")]
    public string Id { get; init; } = "";
}

/// <summary><c>token revoke ID</c>: DELETE /api/v1/tokens/{id}; refused on every node within seconds.</summary>
public sealed class TokenRevokeCommand : ApiCommand<TokenRevokeSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, TokenRevokeSettings settings, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Delete, $"api/v1/tokens/{Segment(settings.Id)}", null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say($"token {settings.Id} revoked");
        }

        return ExitCodes.Ok;
    }
}
