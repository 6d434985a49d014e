//go:build !windows

package winetest

func version() string { return "" }
