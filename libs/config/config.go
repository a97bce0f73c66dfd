// Package config fills a service's configuration struct from environment
// variables with a per-service prefix, with defaults in struct tags, and
// renders it for the start-up log with secrets masked.
//
//	type Config struct {
//		HTTPAddr string        `env:"HTTP_ADDR" default:":8081" help:"listen address"`
//		S3Secret string        `env:"S3_SECRET_KEY" secret:"true"`
//		Timeout  time.Duration `env:"SHUTDOWN_TIMEOUT" default:"20s"`
//	}
//	err := config.Load("INGEST_", os.Getenv, &cfg) // reads INGEST_HTTP_ADDR …
//
// Nested structs are walked; a field tagged `env:",shared"` on a nested struct
// reads its variables without the prefix (e.g. NATS_URL shared by services).
// LogAttrs renders the effective configuration for the start-up log.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Load fills dst (a pointer to struct) from getenv.
func Load(prefix string, getenv func(string) string, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return errors.New("config: dst must be a pointer to a struct")
	}
	var errs []error
	walk(v.Elem(), prefix, func(f reflect.Value, name string, sf reflect.StructField) {
		raw := getenv(name)
		if raw == "" {
			raw = sf.Tag.Get("default")
		}
		if raw == "" {
			if sf.Tag.Get("required") == "true" {
				errs = append(errs, fmt.Errorf("%s is required", name))
			}
			return
		}
		if err := set(f, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, mask(sf, raw), err))
		}
	})
	return errors.Join(errs...)
}

func mask(sf reflect.StructField, s string) string {
	if sf.Tag.Get("secret") == "true" && s != "" {
		return "***"
	}
	return s
}

func walk(v reflect.Value, prefix string, fn func(reflect.Value, string, reflect.StructField)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("env")
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Time]() {
			p := prefix
			if strings.HasSuffix(tag, ",shared") {
				p = ""
			}
			walk(f, p, fn)
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		fn(f, prefix+tag, sf)
	}
}

func set(f reflect.Value, raw string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	case []string:
		var out []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		f.Set(reflect.ValueOf(out))
		return nil
	case []int:
		var out []int
		for _, p := range strings.Split(raw, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		f.Set(reflect.ValueOf(out))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Float64:
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// LogAttrs returns the effective configuration as slog attributes, one per
// variable, secrets masked, so that a service logs it as one line at start.
func LogAttrs(prefix string, cfg any) []any {
	var attrs []any
	v := reflect.ValueOf(cfg)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	walk(v, prefix, func(f reflect.Value, name string, sf reflect.StructField) {
		val := f.Interface()
		if s, ok := val.([]string); ok {
			val = strings.Join(s, ",")
		}
		attrs = append(attrs, slog.String(name, mask(sf, fmt.Sprint(val))))
	})
	return attrs
}
