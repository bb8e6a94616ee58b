// Package store is cdp's file-system edge: the code that touches files on
// disk so that core packages, which take io.Reader/io.Writer or fs.FS, never
// import os. It writes files atomically (WriteFileAtomic) and finds and opens
// data sets on disk.
package store
