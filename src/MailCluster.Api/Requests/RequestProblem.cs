namespace MailCluster.Api.Requests;

/// <summary>
/// What is wrong with a request, answered as an RFC 7807 problem: <see cref="Field"/> names the input to blame in
/// the request's own spelling (<c>recipients[3].email</c>, <c>content.attachments[0].data</c>, the
/// <c>Idempotency-Key</c> header).
/// </summary>
public sealed record RequestProblem(int Status, string Detail, string? Field)
{
    public static RequestProblem Invalid(string field, string detail) => new(422, detail, field);
}

/// <summary>Thrown inside the reader and the composer to stop at the first problem; never escapes the endpoint.</summary>
public sealed class RequestProblemException(RequestProblem problem) : Exception(problem?.Detail)
{
    public RequestProblem Problem { get; } = problem ?? throw new ArgumentNullException(nameof(problem));

    public RequestProblemException()
        : this(new RequestProblem(400, "bad request", null))
    {
    }

    public RequestProblemException(string message)
        : this(new RequestProblem(400, message, null))
    {
    }

    public RequestProblemException(string message, Exception innerException)
        : this(new RequestProblem(400, message, null))
    {
        _ = innerException;
    }
}
