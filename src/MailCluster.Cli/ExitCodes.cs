namespace MailCluster.Cli;

/// <summary>
/// The exit codes of <c>mailcluster</c>, a contract for scripts (documented in the README): each names what went
/// wrong, so a script can tell "fix your token" from "try again later".
/// </summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Anything unexpected (a bug, an answer that is not the API's).</summary>
    public const int Failure = 1;

    /// <summary>Bad command line or configuration: unknown command or option, missing argument, no URL or token.</summary>
    public const int Usage = 2;

    /// <summary>401: no token, or the token is unknown or revoked.</summary>
    public const int Unauthorized = 3;

    /// <summary>403: the token's role is too low for this command.</summary>
    public const int Forbidden = 4;

    /// <summary>404: no such message, token or route.</summary>
    public const int NotFound = 5;

    /// <summary>409: not now (the message is being delivered); try again shortly.</summary>
    public const int Conflict = 6;

    /// <summary>400: the node refused an input (bad domain, id, name or role); the message names the field.</summary>
    public const int Rejected = 7;

    /// <summary>The node could not be reached, timed out, was busy (429) or failed (5xx, e.g. a queue did not answer).</summary>
    public const int Unavailable = 8;

    public static int ForStatus(int status) => status switch
    {
        400 => Rejected,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        409 => Conflict,
        429 or >= 500 => Unavailable,
        _ => Failure,
    };
}
