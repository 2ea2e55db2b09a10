using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;
using Microsoft.Extensions.Options;
using BusinessApi.Platform.Approvals;
using BusinessApi.Platform.Security;

namespace BusinessApi.Documents;

public static class DocumentsExtensions
{
    public static IServiceCollection AddDocuments(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SignatureOptions>().Bind(configuration.GetSection(SignatureOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DocumentOptions>().Bind(configuration.GetSection(DocumentOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PaymentOptions>().Bind(configuration.GetSection(PaymentOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageTable(DocumentStore.TableName);
        services.AddStorageTable(DocumentStore.DueTable);
        services.AddStorageTable(DocumentStore.AlertsTable);
        services.AddStorageTable(TariffStore.TableName);
        services.AddStorageContainer(DocumentArchive.ContainerName, StorageServiceCollectionExtensions.ArchiveSetting);
        services.AddStorageContainer(TrustStore.ContainerName);
        services.AddSingleton<DocumentStore>();
        services.AddSingleton<DocumentArchive>();
        services.AddSingleton<TrustStore>();
        services.AddSingleton<PkiHttp>();
        services.AddSingleton<RevocationChecker>();
        services.AddSingleton<SignatureService>();
        services.AddStorageTable(CertificateBlocks.TableName);
        services.AddSingleton<CertificateBlocks>();
        services.AddSingleton<SignedInstructionReader>();
        services.AddSingleton<TariffStore>();
        services.AddStorageTable(FeeCollector.TableName);
        services.AddSingleton<FeeCollector>();
        services.AddScheduledJob<ApiSupportFeeJob>();
        services.AddScheduledJob<FeeDebtSettlementJob>();
        services.AddSingleton(sp => PurposeCodes.Load(sp.GetRequiredService<IOptions<PaymentOptions>>().Value.PurposeCodesPath));
        services.AddSingleton<PaymentOrderValidation>();
        services.AddSingleton<DocumentVerification>();
        services.AddSingleton<DocumentPosting>();
        services.AddSingleton<DocumentCompletion>();
        services.AddSingleton<DocumentIntake>();
        services.AddSingleton<SpecimenCardStore>();
        services.AddSingleton<SignatureCollector>();
        services.AddWorkflow<DocumentWorkflow>();
        services.AddSingleton<IWorkflowObserver, DocumentMetrics>();
        services.AddScheduledJob<DocumentDeadlineJob>();
        services.AddScheduledJob<CrlRefreshJob>();
        services.AddScheduledJob<SignerPowerExpiryJob>();
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Documents.Resources.DocumentTexts", typeof(DocumentsExtensions).Assembly)));
        return services;
    }

    public static void MapDocuments(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        var documents = api.MapGroup("/documents")
            .WithTags("Payment documents")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        documents.MapPost("/", DocumentEndpoints.SubmitAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsWrite)
            .Accepts<SubmitDocumentBody>("application/json")
            .Produces<DocumentAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithName("SubmitDocument")
            .WithSummary("Submit a payment order signed with the user's NCA RK EDS (CMS SignedData, content inside). Needs a software session and Idempotency-Key; answers 202 and the document's fate is in its status.");
        documents.MapGet("/", DocumentEndpoints.ListAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsRead)
            .ProducesValidationProblem()
            .WithName("ListDocuments")
            .WithSummary("The customer's documents received between from and to (local dates, default the last 30 days), oldest first, optionally of one status; with awaitingMySignature=true, the documents awaiting a signature the caller may give.");
        documents.MapGet("/{documentId}/content", DocumentSigningEndpoints.GetContentAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsRead)
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("GetDocumentContent")
            .WithSummary("The exact bytes to sign of a document several people sign (its canonical JSON; SHA-256 in the Digest header). Sign them attached or detached.");
        documents.MapPost("/{documentId}/signatures", DocumentSigningEndpoints.AddSignatureAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsWrite)
            .Accepts<SubmitDocumentBody>("application/json")
            .Produces<DocumentResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithName("AddDocumentSignature")
            .WithSummary("Add a signature (a CMS over the document's content, attached or detached; several SignerInfos for several people). Each passes every check of a signed document; the account's specimen card decides when it is signed enough.");
        documents.MapDelete("/{documentId}", DocumentSigningEndpoints.CancelAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsWrite)
            .Produces<DocumentResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("CancelDocument")
            .WithSummary("Its creator or a customer admin cancels a document not yet fully signed (status cancelled).");
        api.MapGet("/accounts/{iban}/signature-rule", SpecimenCardOperations.GetForCustomerAsync)
            .RequireCustomerScope(CustomerAccess.AccountsRead)
            .WithTags("Accounts")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetAccountSignatureRule")
            .WithSummary("Who signs the account's documents, in which group, and the rule (the bank's specimen-signature card).");
        documents.MapGet("/{documentId}", DocumentEndpoints.GetAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsRead)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetDocument")
            .WithSummary("One document: status with its history and times, refusal reason in the caller's language, deadlines, signer, posting.");
        documents.MapGet("/{documentId}/archive", DocumentEndpoints.GetArchiveAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsRead)
            .Produces(StatusCodes.Status200OK, contentType: "application/pkcs7-mime")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetDocumentArchive")
            .WithSummary("The signed original, byte for byte, from the 5-year archive (its SHA-256 re-checked; also in the Digest header).");
        documents.MapGet("/{documentId}/receipt", DocumentEndpoints.GetReceiptAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsRead)
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetDocumentReceipt")
            .WithSummary("The archived receipt of a finished document: status history and what verification found.");

        ops.MapGet("/documents/alerts", DocumentOperations.AlertsAsync)
            .WithName("ListDocumentAlerts")
            .WithSummary("Documents needing an operator: kind=aml (held for anti-money-laundering review) or kind=overdue (not finished by their R-33 instant).")
            .ProducesValidationProblem();
        ops.MapGet("/documents/{documentId}", DocumentOperations.GetAsync)
            .WithName("GetDocumentAsOperator")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/documents/{documentId}/refusal", DocumentOperations.RefuseAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .WithName("RefuseDocument")
            .WithSummary("Refuse a document held for anti-money-laundering review (reasonCode aml).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapPost("/documents/{documentId}/release", DocumentOperations.ReleaseAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .WithName("ReleaseDocument")
            .WithSummary("Release a document held for anti-money-laundering review: it goes on to the posting.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapGet("/trust-anchors", DocumentOperations.ListTrustAsync)
            .WithName("ListTrustMaterial")
            .WithSummary("Trust anchors (NCA RK roots and intermediates) and CRLs in force for EDS checks.");
        ops.MapPost("/trust-anchors", DocumentOperations.AddTrustAnchorAsync)
            .RequireOperatorRole(OperatorRoles.Trust)
            .RequireFourEyes("trust.anchor_add")
            .WithName("AddTrustAnchor")
            .WithSummary("Add a root or intermediate CA certificate (PEM or base64 DER). Four eyes.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        ops.MapDelete("/trust-anchors/{thumbprint}", DocumentOperations.RemoveTrustAnchorAsync)
            .RequireOperatorRole(OperatorRoles.Trust)
            .RequireFourEyes("trust.anchor_remove")
            .WithName("RemoveTrustAnchor")
            .WithSummary("Remove an anchor added through the API, by its SHA-1 thumbprint; signatures that chain only to it stop verifying. Four eyes.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/crls", DocumentOperations.AddCrlAsync)
            .RequireOperatorRole(OperatorRoles.Trust)
            .WithName("AddCrl")
            .WithSummary("Add a CRL (PEM or base64 DER) signed by a known CA; it replaces an older one of that CA.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapPost("/users/{userId}/certificates/compromise", CertificateCompromise.ReportAsync)
            .RequireAuthorization(Users.UsersExtensions.SessionPolicy)
            .WithMetadata(AllowedWhileSuspended.Instance)
            .WithName("ReportCertificateCompromised")
            .WithTags("Users")
            .WithSummary("The user or their admin reports one of the user's signing certificates compromised (the certificate, or its serial): documents signed with it and not yet executed are refused credentials_compromised (R-38).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        ops.MapPost("/signatures/verify", SignatureInspection.VerifyAsync)
            .RequireOperatorRole(OperatorRoles.Read)
            .WithName("VerifySignature")
            .WithTags("Signatures")
            .WithSummary("What the verifier concludes of a CMS, per SignerInfo: algorithm, signer (IIN, BIN, roles, policies), chain, time-stamp, revocation source and answer, every check with its failure code. With at: judged at that past instant, revocation by the CRLs on file.")
            .ProducesValidationProblem();
        ops.MapPost("/customers/{customerId}/certificate-blocks", CertificateBlockOperations.BlockAsync)
            .RequireOperatorRole(OperatorRoles.Trust)
            .WithName("BlockCertificate")
            .WithTags("Signatures")
            .WithSummary("Stop accepting one certificate (issuer and serial number) on the customer's call: documents received after it are refused certificate_blocked (R-14, R-38).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapGet("/customers/{customerId}/certificate-blocks", CertificateBlockOperations.ListAsync)
            .WithName("ListCertificateBlocks")
            .WithTags("Signatures")
            .WithSummary("The customer's blocked certificates, oldest first.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPut("/accounts/{iban}/signature-rule", SpecimenCardOperations.PutAsync)
            .RequireOperatorRole(OperatorRoles.Trust)
            .WithName("PutSignatureRule")
            .WithTags("Signatures")
            .WithSummary("Record the account's specimen-signature card: signers with their group (first, second) and the rule (first, or first+second). Journaled; documents still collecting are judged again.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapGet("/accounts/{iban}/signature-rule", SpecimenCardOperations.GetAsync)
            .WithName("GetSignatureRule")
            .WithTags("Signatures")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/accounts/{iban}/signature-rule/signers/{userId}/end", SpecimenCardOperations.EndSignerAsync)
            .RequireOperatorRole(OperatorRoles.Trust)
            .WithName("EndSignerPower")
            .WithTags("Signatures")
            .WithSummary("End a signer's power on the card now (R-14): new signatures refused, signatures on documents still collecting stop counting.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapGet("/tariffs", DocumentOperations.GetTariffsAsync)
            .WithName("GetTariffs");
        ops.MapPut("/tariffs", DocumentOperations.PutTariffsAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .WithName("PutTariffs")
            .WithSummary("Publish the commission schedule: per document type, currency and route (internal, interbank), fixed + percent within min and max.")
            .ProducesValidationProblem();
    }
}

/// <param name="Cms">Base64 of a CMS SignedData (PKCS #7) whose encapsulated content is the payment order, or the signed instruction, as UTF-8 JSON.</param>
public sealed record SubmitDocumentBody(string Cms);
