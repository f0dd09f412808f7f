namespace MailCluster.Ops.Access;

/// <summary>
/// What a bearer token may do on the ops API. Each role includes the ones before it (the numeric order is the
/// contract): <see cref="Read"/> the GET routes, <see cref="Operate"/> also flush, hold, release, suspend, resume and
/// drain, <see cref="Admin"/> also delete, bounce and the tokens themselves.
/// </summary>
public enum ApiRole
{
    Read = 1,
    Operate = 2,
    Admin = 3,
}

public static class ApiRoles
{
    /// <summary>The role's name on the wire and in the database: <c>read</c>, <c>operate</c>, <c>admin</c>.</summary>
    public static string Name(this ApiRole role) => role switch
    {
        ApiRole.Read => "read",
        ApiRole.Operate => "operate",
        ApiRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "not a role"),
    };

    /// <summary>Parses a role name exactly as written (lower case); null for anything else.</summary>
    public static ApiRole? Parse(string? text) => text switch
    {
        "read" => ApiRole.Read,
        "operate" => ApiRole.Operate,
        "admin" => ApiRole.Admin,
        _ => null,
    };
}
