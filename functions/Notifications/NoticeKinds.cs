namespace BusinessApi.Notifications;

/// <summary>
/// The kinds of notices the bank sends, which are also the webhook event names. Each has its texts
/// <c>notice.{kind}</c> in ru, kk and en.
/// </summary>
public static class NoticeKinds
{
    public const string DocumentExecuted = "document_executed";
    public const string DocumentRefused = "document_refused";
    public const string CredentialBlockedInactive = "credential_blocked_inactive";
    public const string PasswordExpiresSoon = "password_expires_soon";
    public const string UserBlockedInactive = "user_blocked_inactive";
    public const string ServiceSuspended = "service_suspended";
    public const string ServiceResumed = "service_resumed";
    public const string SecurityIncidentReceived = "security_incident_received";
    public const string MaintenancePlanned = "maintenance_planned";
    public const string MaintenanceEmergency = "maintenance_emergency";
    public const string TerminationScheduled = "termination_scheduled";
    public const string TerminationCancelled = "termination_cancelled";
    public const string ServiceTerminated = "service_terminated";
    public const string ErrorReportReceived = "error_report_received";
    public const string ErrorReportUpdated = "error_report_updated";
    public const string RefundRequested = "refund_requested";
    public const string RefundDecided = "refund_decided";
    public const string PenaltyClaimDecided = "penalty_claim_decided";
    public const string CertificateCompromised = "certificate_compromised";

    /// <summary>A document awaits signatures: who must still sign (the card's groups), by when.</summary>
    public const string DocumentAwaitingSignature = "document_awaiting_signature";

    /// <summary>A document was cancelled before it was fully signed, by a person or by the window's end.</summary>
    public const string DocumentCancelled = "document_cancelled";

    /// <summary>To the customer's admins: a signer's power ends within 7 days.</summary>
    public const string SignerPowerExpiring = "signer_power_expiring";

    /// <summary>A fee (the API support fee, clause 3.9) was debited in full.</summary>
    public const string FeeDebited = "fee_debited";

    /// <summary>A fee was debited in part, or not at all: the rest is owed and debited as money arrives (clause 5.2.9).</summary>
    public const string FeeOwed = "fee_owed";

    public static readonly IReadOnlyList<string> All =
    [
        DocumentExecuted, DocumentRefused, CredentialBlockedInactive, PasswordExpiresSoon, UserBlockedInactive, ServiceSuspended,
        ServiceResumed, SecurityIncidentReceived, MaintenancePlanned, MaintenanceEmergency, TerminationScheduled, TerminationCancelled,
        ServiceTerminated, ErrorReportReceived, ErrorReportUpdated, RefundRequested, RefundDecided, PenaltyClaimDecided,
        CertificateCompromised, DocumentAwaitingSignature, DocumentCancelled, SignerPowerExpiring, FeeDebited, FeeOwed,
    ];
}
