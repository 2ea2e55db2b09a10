using System.Security.Claims;
using BusinessApi.Customers;
using BusinessApi.Users;

namespace BusinessApi.Documents;

/// <summary>Which documents a caller may see: its customer's, within its account powers. Used by every capability that names a document.</summary>
public static class DocumentAccess
{
    /// <summary>The document when it is the caller's customer's and within the caller's account powers; else null, as for a missing one.</summary>
    public static async Task<Document?> FindForCallerAsync(this DocumentStore store, string documentId, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(caller);
        if (!DocumentIds.IsWellFormed(documentId) || DocumentIds.CustomerOf(documentId) != caller.CustomerId())
        {
            return null;
        }

        var document = await store.GetAsync(documentId, cancellationToken);
        return document is not null && MayRead(caller, document) ? document : null;
    }

    public static bool MayRead(ClaimsPrincipal caller, Document document)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(document);
        return document.Summary is { } summary ? caller.MayAccessAccount(summary.PayerIban)
            : caller.FindFirstValue(CustomerAccess.AccountsClaim) is null or "*" || caller.FindFirstValue(SessionAuthenticationHandler.UserIdClaim) == document.UserId;
    }
}
