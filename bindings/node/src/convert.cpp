// SPDX-License-Identifier: Apache-2.0
//
// Errors, records and arguments between JavaScript and the C++ API (see common.hpp).
#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <vector>

namespace sihlicon::node {

// ---- HubHandle ------------------------------------------------------------------------------

HubHandle::Pin::Pin(std::shared_ptr<HubHandle> handle) : handle_(std::move(handle)) {
    std::lock_guard lock(handle_->mutex_);
    if (handle_->closing_) {
        throw Error(ErrorCode::conflict, "the hub is closed");
    }
    ++handle_->active_;
}

HubHandle::Pin::~Pin() {
    std::lock_guard lock(handle_->mutex_);
    if (--handle_->active_ == 0) {
        handle_->idle_.notify_all();
    }
}

std::uint64_t HubHandle::on_close(std::function<void()> stop) {
    std::lock_guard lock(mutex_);
    if (closing_) {
        throw Error(ErrorCode::conflict, "the hub is closed");
    }
    hooks_.emplace_back(next_hook_, std::move(stop));
    return next_hook_++;
}

void HubHandle::forget(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    std::erase_if(hooks_, [id](const auto& hook) { return hook.first == id; });
}

void HubHandle::close() {
    std::vector<std::pair<std::uint64_t, std::function<void()>>> hooks;
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
        hooks.swap(hooks_);
    }
    for (auto& hook : hooks) {
        hook.second();  // stops a worker agent, which lets go of its pin
    }
    std::optional<Hub> closing;
    {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] { return active_ == 0; });
        closing.swap(hub_);
    }
    closing.reset();
}

bool HubHandle::closed() const {
    std::lock_guard lock(mutex_);
    return closing_;
}

AddonData& addon(Napi::Env env) {
    return *env.GetInstanceData<AddonData>();
}

// ---- errors ---------------------------------------------------------------------------------

namespace {

Napi::Error make_error(Napi::Env env, std::string_view code, const std::string& message,
                       const std::string& field) {
    auto& data = addon(env);
    Napi::Object object;
    if (!data.error_class.IsEmpty()) {
        object = data.error_class.New({Napi::String::New(env, message)});
    } else {
        object = Napi::Error::New(env, message).Value();
    }
    object.Set("code", Napi::String::New(env, code.data(), code.size()));
    if (!field.empty()) {
        object.Set("field", Napi::String::New(env, field));
    }
    return Napi::Error(env, object);
}

// The library names the fields of its C++ records in snake_case ("seller_hub"), where this
// API's objects spell them in camelCase ("sellerHub"). A field that is one snake_case word is
// one of those and is renamed, in .field and where the message names it; paths ("labels.x_y",
// "workloadConfig.env.MY_VAR") hold keys the caller chose and are left as they are.
std::string camel_case_field(const std::string& field) {
    const bool snake = !field.empty() && field.front() >= 'a' && field.front() <= 'z' &&
                       field.find('_') != std::string::npos && field.back() != '_' &&
                       std::all_of(field.begin(), field.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                       });
    if (!snake) {
        return field;
    }
    std::string camel;
    bool upper = false;
    for (const char c : field) {
        if (c == '_') {
            upper = true;
        } else {
            camel += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
            upper = false;
        }
    }
    return camel;
}

}  // namespace

Napi::Error to_js_error(Napi::Env env, const Error& error) {
    const auto field = camel_case_field(error.field());
    std::string message = error.what();
    if (field != error.field()) {
        if (const auto at = message.find(error.field()); at != std::string::npos) {
            message.replace(at, error.field().size(), field);
        }
    }
    return make_error(env, to_string(error.code()), message, field);
}

Napi::Error to_js_error(Napi::Env env, const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& failure) {
        return to_js_error(env, failure);
    } catch (const Napi::Error& failure) {
        return failure;
    } catch (const std::bad_alloc&) {
        return make_error(env, to_string(ErrorCode::internal), "out of memory", {});
    } catch (const std::exception& failure) {
        return make_error(env, to_string(ErrorCode::internal), failure.what(), {});
    } catch (...) {
        return make_error(env, to_string(ErrorCode::internal), "unknown exception", {});
    }
}

// ---- records to JavaScript ------------------------------------------------------------------

Napi::Value parse_json(Napi::Env env, const std::string& text) {
    return addon(env).json_parse.Call({Napi::String::New(env, text)});
}

std::string stringify(Napi::Env env, Napi::Value value) {
    auto result = addon(env).json_stringify.Call({value});
    if (!result.IsString()) {
        throw Error(ErrorCode::invalid_argument, "the value has no JSON form");
    }
    return result.As<Napi::String>().Utf8Value();
}

Napi::Value iso(Napi::Env env, Timestamp value) {
    return Napi::String::New(env, to_iso8601(value));
}

Napi::Value optional_string(Napi::Env env, const std::optional<std::string>& value) {
    return value ? Napi::String::New(env, *value) : env.Null();
}

Napi::Array strings(Napi::Env env, const std::vector<std::string>& values) {
    auto array = Napi::Array::New(env, values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        array.Set(static_cast<std::uint32_t>(i), Napi::String::New(env, values[i]));
    }
    return array;
}

Napi::Object lease_object(Napi::Env env, const Lease& lease) {
    auto object = Napi::Object::New(env);
    object.Set("jobId", lease.job_id);
    object.Set("workerId", lease.worker_id);
    object.Set("token", lease.token);
    object.Set("expiresAt", iso(env, lease.expires_at));
    object.Set("attempt", Napi::Number::New(env, static_cast<double>(lease.attempt)));
    return object;
}

Napi::Object receipt_check_object(Napi::Env env, const ReceiptCheck& check) {
    auto object = Napi::Object::New(env);
    object.Set("status", std::string(to_string(check.status)));
    object.Set("valid", check.valid);
    object.Set("signerTrusted", check.signer_trusted);
    object.Set("problem", check.problem);
    object.Set("jobId", check.job_id);
    object.Set("epochId", check.epoch_id);
    object.Set("signer", check.signer);
    return object;
}

Napi::Value owned_buffer(Napi::Env env, std::vector<std::uint8_t>&& bytes) {
    auto* owned = new std::vector<std::uint8_t>(std::move(bytes));
    return Napi::Buffer<std::uint8_t>::NewOrCopy(
        env, owned->data(), owned->size(),
        [](Napi::Env, std::uint8_t*, std::vector<std::uint8_t>* data) { delete data; }, owned);
}

// ---- JavaScript arguments to C++ ------------------------------------------------------------

namespace {

std::string describe(const Napi::Value& value) {
    switch (value.Type()) {
        case napi_undefined:
            return "undefined";
        case napi_null:
            return "null";
        case napi_boolean:
            return value.As<Napi::Boolean>().Value() ? "true" : "false";
        case napi_number:
            return value.As<Napi::Number>().ToString().Utf8Value();
        case napi_string:
            return value.As<Napi::String>().Utf8Value();
        case napi_symbol:
            return "a symbol";
        case napi_object:
            return value.IsArray() ? "an array" : "an object";
        case napi_function:
            return "a function";
        case napi_external:
            return "an external";
        case napi_bigint:
            return value.As<Napi::BigInt>().ToString().Utf8Value() + "n";
    }
    return "a value";
}

[[noreturn]] void wrong(const Napi::Value& value, std::string_view field, std::string_view want) {
    throw Error::invalid(field, describe(value), want);
}

}  // namespace

bool is_absent(const Napi::Value& value) {
    return value.IsUndefined() || value.IsNull();
}

std::string text(const Napi::Value& value, std::string_view field) {
    if (!value.IsString()) {
        wrong(value, field, "must be a string");
    }
    return value.As<Napi::String>().Utf8Value();
}

std::optional<std::string> optional_text(const Napi::Value& value, std::string_view field) {
    if (is_absent(value)) {
        return std::nullopt;
    }
    return text(value, field);
}

std::int64_t integer(const Napi::Value& value, std::string_view field) {
    if (value.IsBigInt()) {
        bool lossless = false;
        const auto result = value.As<Napi::BigInt>().Int64Value(&lossless);
        if (!lossless) {
            wrong(value, field, "must fit a signed 64-bit integer");
        }
        return result;
    }
    if (!value.IsNumber()) {
        wrong(value, field, "must be an integer");
    }
    const double number = value.As<Napi::Number>().DoubleValue();
    // 2^53: beyond it a double no longer holds every integer exactly.
    constexpr double kSafe = 9007199254740991.0;
    if (!std::isfinite(number) || std::trunc(number) != number || std::fabs(number) > kSafe) {
        wrong(value, field, "must be a safe integer (or a BigInt)");
    }
    return static_cast<std::int64_t>(number);
}

std::optional<std::int64_t> optional_integer(const Napi::Value& value, std::string_view field) {
    if (is_absent(value)) {
        return std::nullopt;
    }
    return integer(value, field);
}

bool boolean(const Napi::Value& value, std::string_view field, bool fallback) {
    if (is_absent(value)) {
        return fallback;
    }
    if (!value.IsBoolean()) {
        wrong(value, field, "must be a boolean");
    }
    return value.As<Napi::Boolean>().Value();
}

std::vector<std::string> text_list(const Napi::Value& value, std::string_view field) {
    std::vector<std::string> result;
    if (is_absent(value)) {
        return result;
    }
    if (!value.IsArray()) {
        wrong(value, field, "must be an array of strings");
    }
    auto array = value.As<Napi::Array>();
    for (std::uint32_t i = 0; i < array.Length(); ++i) {
        result.push_back(text(array.Get(i), std::string(field) + "[" + std::to_string(i) + "]"));
    }
    return result;
}

Timestamp timestamp(const Napi::Value& value, std::string_view field) {
    if (value.IsString()) {
        return parse_iso8601(value.As<Napi::String>().Utf8Value(), field);
    }
    if (value.IsDate()) {
        const double ms = value.As<Napi::Date>().ValueOf();
        if (!std::isfinite(ms)) {
            wrong(value, field, "must be a valid Date");
        }
        return Timestamp::from_ms(static_cast<std::int64_t>(ms));
    }
    if (value.IsNumber() || value.IsBigInt()) {
        return Timestamp::from_ms(integer(value, field));
    }
    wrong(value, field, "must be milliseconds since the epoch, a Date or an ISO 8601 string");
}

std::optional<Timestamp> optional_timestamp(const Napi::Value& value, std::string_view field) {
    if (is_absent(value)) {
        return std::nullopt;
    }
    return timestamp(value, field);
}

Napi::Object options(const Napi::Value& value, std::string_view field) {
    if (is_absent(value)) {
        return Napi::Object::New(value.Env());
    }
    if (!value.IsObject() || value.IsArray()) {
        wrong(value, field, "must be an object");
    }
    return value.As<Napi::Object>();
}

std::string json_text(Napi::Env env, const Napi::Value& value, std::string_view field) {
    if (value.IsString()) {
        return value.As<Napi::String>().Utf8Value();
    }
    if (!value.IsObject()) {
        wrong(value, field, "must be an object or its JSON text");
    }
    return stringify(env, value);
}

std::optional<Energy> optional_energy(const Napi::Object& object, std::string_view base) {
    const std::string mwh_key = std::string(base) + "Mwh";
    const std::string kwh_key = std::string(base) + "Kwh";
    const auto mwh = object.Get(mwh_key);
    const auto kwh = object.Get(kwh_key);
    if (!is_absent(mwh)) {
        return Energy::milliwatt_hours(integer(mwh, mwh_key));
    }
    if (is_absent(kwh)) {
        return std::nullopt;
    }
    if (kwh.IsString()) {
        return Energy::parse_kwh(kwh.As<Napi::String>().Utf8Value(), kwh_key);
    }
    if (kwh.IsNumber()) {
        return Energy::parse_kwh(kwh.As<Napi::Number>().ToString().Utf8Value(), kwh_key);
    }
    wrong(kwh, kwh_key, "must be a decimal number of kWh");
}

Money money(const Napi::Value& value, const Currency& currency, std::string_view field) {
    if (!value.IsString()) {
        wrong(value, field, "must be an exact decimal string such as \"10.50\"");
    }
    return Money::parse(value.As<Napi::String>().Utf8Value(), currency, field);
}

std::span<const std::uint8_t> bytes(const Napi::Value& value, std::string_view field,
                                    std::string& storage) {
    if (value.IsString()) {
        storage = value.As<Napi::String>().Utf8Value();
        return {reinterpret_cast<const std::uint8_t*>(storage.data()), storage.size()};
    }
    if (value.IsTypedArray()) {
        auto array = value.As<Napi::TypedArray>();
        const auto* base = static_cast<const std::uint8_t*>(array.ArrayBuffer().Data());
        return {base + array.ByteOffset(), array.ByteLength()};
    }
    if (value.IsDataView()) {
        auto view = value.As<Napi::DataView>();
        const auto* base = static_cast<const std::uint8_t*>(view.ArrayBuffer().Data());
        return {base + view.ByteOffset(), view.ByteLength()};
    }
    if (value.IsArrayBuffer()) {
        auto buffer = value.As<Napi::ArrayBuffer>();
        return {static_cast<const std::uint8_t*>(buffer.Data()), buffer.ByteLength()};
    }
    wrong(value, field, "must be a Buffer, a TypedArray, a DataView, an ArrayBuffer or a string");
}

}  // namespace sihlicon::node
