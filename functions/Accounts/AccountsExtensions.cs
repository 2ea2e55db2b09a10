using BusinessApi.Accounts.Ledger;
using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Approvals;
using BusinessApi.Platform.Security;

namespace BusinessApi.Accounts;

public static class AccountsExtensions
{
    public static IServiceCollection AddAccounts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BankOptions>().Bind(configuration.GetSection(BankOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LedgerOptions>().Bind(configuration.GetSection(LedgerOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageTable(LedgerRows.TableName);
        services.AddStorageTable(LedgerRows.OutboxIndexTable);
        services.AddStorageTable(AccountDirectory.TableName);
        services.AddSingleton<LedgerStorage>();
        services.AddSingleton<Ledger.Ledger>();
        services.AddSingleton<LedgerReports>();
        services.AddSingleton<AccountDirectory>();
        // Messages to other banks through the interbank settlement system (refund notices, foreign-currency payments).
        services.AddStorageContainer(Settlement.BlobSettlementGateway.ContainerName);
        services.AddSingleton<Settlement.ISettlementGateway, Settlement.BlobSettlementGateway>();
        services.AddStorageTable(ExchangeRateStore.TableName);
        services.AddSingleton<ExchangeRateStore>();
        services.AddScheduledJob<LedgerOutboxSweep>();
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Accounts.Resources.AccountTexts", typeof(AccountsExtensions).Assembly)));
        return services;
    }

    public static void MapAccounts(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        // Information services for the customer's own software.
        api.MapGet("/accounts", InformationServices.ListAccountsAsync)
            .RequireCustomerScope(CustomerAccess.AccountsRead)
            .WithName("ListAccounts").WithTags("Information services")
            .WithSummary("The caller's accounts: balance, available, holds and restrictions, as of now.")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/accounts/{iban}", InformationServices.GetAccountAsync)
            .RequireCustomerScope(CustomerAccess.AccountsRead)
            .WithName("GetAccount").WithTags("Information services")
            .WithSummary("One of the caller's accounts; another customer's IBAN is 404.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/accounts/{iban}/statement", InformationServices.GetStatementAsync)
            .RequireCustomerScope(CustomerAccess.StatementsRead)
            .WithName("GetStatement").WithTags("Information services")
            .WithSummary("Statement for local days from..to: opening and closing balance, totals, entries (paged JSON), or the whole period as a file: format=mt940 (SWIFT, ASCII), camt053 (ISO 20022 camt.053.001.08), 1c (1CClientBankExchange, Windows-1251).")
            .Produces<string>(StatusCodes.Status200OK, "application/xml", "text/plain")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/exchange-rates", ExchangeRateEndpoints.GetAsync)
            .RequireCustomerScope(CustomerAccess.AccountsRead)
            .WithName("GetExchangeRates").WithTags("Currency")
            .WithSummary("The bank's buy and sell rates (KZT per unit) of a date, today's by default: the newest published version (R-34).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        // The bank's side.
        ops.MapPut("/exchange-rates/{date}", ExchangeRateEndpoints.PublishAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .RequireFourEyes("exchange_rates.publish")
            .WithName("PublishExchangeRates").WithTags("Currency")
            .WithSummary("Publish a date's rates as a new version; earlier versions stay as they were (a correction is journaled beside what it replaces).")
            .ProducesValidationProblem();
        ops.MapGet("/exchange-rates/{date}/versions", ExchangeRateEndpoints.ListVersionsAsync)
            .WithName("ListExchangeRateVersions").WithTags("Currency")
            .WithSummary("Every published version of a date's rates, oldest first.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/customers/{customerId}/accounts", OpenAccount.HandleAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithIdempotency(required: false)
            .WithName("OpenAccount").WithTags("Accounts")
            .WithSummary("Open an account (IBAN under the bank's code, currency) for a customer.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapGet("/accounts/{iban}", OperatorAccountViews.GetAccountAsync)
            .WithName("GetAccountForOperator").WithTags("Accounts")
            .WithSummary("Any account with its owner and all restrictions.");
        ops.MapGet("/accounts/{iban}/statement", OperatorAccountViews.GetStatementAsync)
            .WithName("GetStatementForOperator").WithTags("Accounts")
            .WithSummary("Any account's statement.");
        ops.MapPost("/accounts/{iban}/credits", CreditAccount.HandleAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .RequireFourEyes("account.cash_in")
            .WithIdempotency()
            .WithName("CreditAccount").WithTags("Accounts")
            .WithSummary("Cash-in: debit the bank's cash, credit the account. Requires Idempotency-Key. Four eyes.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        ops.MapGet("/accounts/{iban}/transactions/{transactionId}", OperatorAccountViews.GetTransactionAsync)
            .WithName("GetTransaction").WithTags("Accounts")
            .WithSummary("A transaction booked on the account, with all its legs.");
        ops.MapGet("/accounts/{iban}/verification", OperatorAccountViews.VerifyAsync)
            .WithName("VerifyAccount").WithTags("Accounts")
            .WithSummary("Replays the account's entries against its head.");
        ops.MapPost("/accounts/{iban}/restrictions", ManageRestrictions.AddAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .WithIdempotency(required: false)
            .WithName("AddRestriction").WithTags("Accounts")
            .WithSummary("Register an arrest (of an amount, or of everything) or a debit suspension (R-36 c).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapGet("/accounts/{iban}/restrictions", ManageRestrictions.ListAsync)
            .WithName("ListRestrictions").WithTags("Accounts")
            .WithSummary("All restrictions of the account, lifted ones included.");
        ops.MapDelete("/accounts/{iban}/restrictions/{restrictionId}", ManageRestrictions.LiftAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .RequireFourEyes("account.restriction_lift")
            .WithName("LiftRestriction").WithTags("Accounts")
            .WithSummary("Lift a restriction (optional ?reference= of the revoking order); lifting again answers the same. Four eyes.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapGet("/ledger/accounts/{accountId}", OperatorAccountViews.GetLedgerAccountAsync)
            .WithName("GetLedgerAccount").WithTags("Ledger")
            .WithSummary("A ledger account by id, e.g. the bank's bank-cash-kzt or bank-interbank-settlement-usd.");
        ops.MapGet("/ledger/accounts/{accountId}/statement", OperatorAccountViews.GetLedgerStatementAsync)
            .WithName("GetLedgerStatement").WithTags("Ledger")
            .WithSummary("A ledger account's statement.");
        ops.MapGet("/ledger/trial-balance", OperatorAccountViews.TrialBalanceAsync)
            .WithName("GetTrialBalance").WithTags("Ledger")
            .WithSummary("Per currency, all balances plus legs in transit: zero when the books balance.");
    }
}
