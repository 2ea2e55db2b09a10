# The Business API as a container for Azure Container Apps (infra/main.bicep).
#
#   docker build -t <registry>/business-api:<version> .
#
# Build stage: the .NET SDK publishes the app (appsettings.json travels with it, local.settings.json never does).
# Runtime stage: the chiselled ASP.NET image — no shell, no package manager, runs as the non-root
# "app" user (UID 1654), listens on 8080. CI cannot run Docker here; it publishes the same project
# self-contained and starts that folder against Azurite (tests/.../PublishedAppTests.cs).

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
# Restore first, from the files that decide it, so source edits reuse the cached layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig appsettings.json ./
COPY functions/BusinessApi.Functions.csproj functions/
RUN dotnet restore functions/BusinessApi.Functions.csproj
COPY functions/ functions/
RUN dotnet publish functions/BusinessApi.Functions.csproj -c Release --no-restore -o /app \
    && rm -f /app/local.settings.json

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_gcServer=0 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "BusinessApi.Functions.dll"]
