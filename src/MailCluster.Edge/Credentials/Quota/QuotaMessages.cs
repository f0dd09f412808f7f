namespace MailCluster.Edge.Credentials.Quota;

/// <summary>Marks the quota entity's messages for <see cref="QuotaSerializer"/>.</summary>
public interface IQuotaMessage;

/// <summary>Asks key <paramref name="KeyId"/>'s counter for <paramref name="Messages"/>. The limits travel with the
/// request (the asking node read them from its <see cref="CredentialSet"/>), so a changed limit applies at once
/// and the entity needs no database.</summary>
public sealed record ConsumeQuota(string KeyId, int Messages, int? RatePerMinute, int? DailyQuota) : IQuotaMessage;

/// <summary>The entity's answer: a <see cref="QuotaOutcome"/> and how long to wait.</summary>
public sealed record QuotaReply(QuotaOutcome Outcome, long RetryAfterMilliseconds, string Reason) : IQuotaMessage;
