using BusinessApi.Users;

namespace BusinessApi.Tests.Users;

/// <summary>The pure rule of who may give whom which powers, at every edge.</summary>
public sealed class PowerGrantsTests
{
    private const string A = "KZ86125KZT5004100100";
    private const string B = "KZ86125KZT5004100101";

    private static User Person(string id, bool admin, string[] functions, string[] accounts) =>
        new("cus_1", id, id, id, "061211600012", admin, UserStatus.Active, new UserPowers(accounts, functions), BusinessApi.Tests.Infrastructure.TestApp.DefaultNow) { PasswordHistory = [] };

    private static readonly User Admin = Person("admin", admin: true, ["view", "create", "sign"], ["*"]);
    private static readonly User Manager = Person("manager", admin: false, ["view", "create", "manageUsers"], [A]);
    private static readonly User Clerk = Person("clerk", admin: false, ["view"], [A]);

    private static IEnumerable<(string Field, string Code)> Broken(User grantor, User? target, bool? isAdmin, string[]? functions = null, string[]? accounts = null) =>
        PowerGrants.Check(grantor, target, isAdmin, functions is null && accounts is null ? null : new UserPowers(accounts ?? [A], functions ?? ["view"]))
            .Select(e => (e.Field, e.Code));

    [Fact]
    public void WhatTheGrantorHolds_MayBeGiven()
    {
        Assert.Empty(Broken(Manager, null, false, ["view", "create"], [A]));
        Assert.Empty(Broken(Manager, Clerk, null, ["view"], [A]));
        Assert.Empty(Broken(Admin, null, true, ["view", "sign", "manageUsers", "manageCredentials"], ["*"])); // an admin's flag brings both managing functions
        Assert.Empty(Broken(Admin, Manager, false));
    }

    [Fact]
    public void MoreThanTheGrantorHolds_IsRefused_FunctionByFunction_AndAccountByAccount()
    {
        Assert.Equal([("permissions.functions", "power_not_held")], Broken(Manager, null, false, ["view", "sign"], [A]));
        Assert.Equal([("permissions.functions", "power_not_held")], Broken(Manager, null, false, ["manageCredentials"], [A]));
        Assert.Equal([("permissions.accounts", "power_not_held")], Broken(Manager, null, false, ["view"], [A, B]));
        Assert.Equal([("permissions.accounts", "power_not_held")], Broken(Manager, null, false, ["view"], ["*"]));
        Assert.Equal([("permissions.functions", "power_not_held"), ("permissions.accounts", "power_not_held")], Broken(Manager, Clerk, null, ["sign"], [B]));
    }

    [Fact]
    public void AdminAndManageUsers_AreGivenOnlyByAnAdmin()
    {
        Assert.Equal([("isAdmin", "admin_only")], Broken(Manager, null, true, ["view"], [A]));
        Assert.Equal([("isAdmin", "admin_only")], Broken(Manager, Clerk, true));
        Assert.Equal([("permissions.functions", "admin_only")], Broken(Manager, null, false, ["manageUsers"], [A])); // though the manager holds it
        Assert.Empty(Broken(Admin, Clerk, null, ["manageUsers"], [A]));
    }

    [Fact]
    public void AnAdmin_IsChangedOnlyByAnAdmin()
    {
        Assert.Equal([("userId", "admin_outranks")], Broken(Manager, Admin, false));
        Assert.Contains(("userId", "admin_outranks"), Broken(Manager, Admin, null, ["view"], [A]));
        Assert.Empty(Broken(Person("other-admin", true, ["view"], ["*"]), Admin, false));
    }

    [Fact]
    public void NobodyChangesTheirOwnPowers_NotEvenAnAdmin()
    {
        Assert.Equal([("permissions", "own_powers")], Broken(Admin, Admin, false));
        Assert.Equal([("permissions", "own_powers")], Broken(Manager, Manager, null, ["view"], [A]));
        Assert.Empty(Broken(Manager, Manager, null)); // a change without powers (the name) is not a change of powers
    }
}
